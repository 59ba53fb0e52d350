"""boto3 adapters; each turns ClientError into the service's own errors."""
