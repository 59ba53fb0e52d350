"""A Glue Python shell script that succeeds and prints its resolved arguments."""

import sys

from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]

args = getResolvedOptions(sys.argv, ["JOB_NAME", "JOB_RUN_ID", "greeting", "target"])
print(f"job {args['JOB_NAME']} says {args['greeting']} to {args['target']}")
