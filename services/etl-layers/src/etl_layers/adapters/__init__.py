"""boto3 adapters; each turns the SDK's errors (ClientError, BotoCoreError, boto3's own) into
the service's own errors."""
