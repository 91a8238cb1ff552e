output "trail_arn" {
  description = "The CloudTrail trail."
  value       = aws_cloudtrail.this.arn
}

output "trail_name" {
  description = "Name of the trail (SAM: CloudTrailName, for the audit alarms)."
  value       = aws_cloudtrail.this.name
}

output "bucket_name" {
  description = "The Object Lock bucket holding the trail's log files."
  value       = aws_s3_bucket.trail.id
}

output "log_group_name" {
  description = "CloudWatch Logs copy of the trail (metric filters and alarms start here)."
  value       = aws_cloudwatch_log_group.trail.name
}

output "notifications_topic_arn" {
  description = "SNS topic told of every log file delivered."
  value       = aws_sns_topic.trail.arn
}

output "kms_key_arn" {
  description = "Key encrypting the trail, its bucket, log group and topic."
  value       = aws_kms_key.trail.arn
}
