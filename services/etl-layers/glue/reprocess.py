"""Glue Python shell job `rocket-<stage>-etl-layers-reprocess`.

Runs the same transformation as the ETL function over every RAW object under `--prefix`.
Arguments (Glue passes `--name value` pairs): --prefix (required), --transaction_id (required,
set by ingest-gate; the correlation id of the events it publishes), and the settings the job's
DefaultArguments carry (--raw_bucket, --trusted_bucket, --delivery_bucket, --quarantine_bucket,
--event_topic_arn, --glue_database, optionally --duckdb_memory_limit). The etl_layers package
comes from the Lambda package given as --extra-py-files.
"""

import sys

from etl_layers.reprocess import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
