output "access_logs_bucket_name" {
  description = "Target of S3 server access logging for the foundation's buckets."
  value       = aws_s3_bucket.access_logs.id
}

output "access_logs_bucket_arn" {
  description = "ARN of the S3 server access logs bucket."
  value       = aws_s3_bucket.access_logs.arn
}

output "alb_logs_bucket_name" {
  description = "Bucket for the optional internal ALB's access logs (SAM: AlbAccessLogsBucket)."
  value       = aws_s3_bucket.alb_logs.id
}

output "alb_logs_bucket_arn" {
  description = "ARN of the ALB access logs bucket."
  value       = aws_s3_bucket.alb_logs.arn
}
