"""Glue 5.0 (Python 3.11) job `rocket-<stage>-etl-layers-reprocess`.

Runs the same transformation as the ETL function over every RAW object under `--prefix`, in
the driver (no Spark: DuckDB per file, as in the function). Arguments (Glue passes
`--name value` pairs, its own among them; unknown ones are ignored): --prefix (required),
--transaction_id (required, set by ingest-gate; the correlation id of the events it publishes),
and the settings the job's DefaultArguments carry (--raw_bucket, --trusted_bucket,
--delivery_bucket, --quarantine_bucket, --event_topic_arn, --glue_database, optionally
--duckdb_memory_limit). The etl_layers and rocket_contracts wheels come from the artifact
bucket through --additional-python-modules (`publish.py` uploads them and this script).
"""

import sys

from etl_layers.reprocess import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
