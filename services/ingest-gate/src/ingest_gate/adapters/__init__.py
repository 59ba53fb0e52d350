"""boto3 adapters: each turns ClientError into the gate's own errors."""
