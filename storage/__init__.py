"""Document bytes at rest: one object-store interface over S3 (boto3) and local disk."""
