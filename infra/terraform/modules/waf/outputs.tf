output "web_acl_arn" {
  description = "The regional web ACL (SAM: WebAclArn, associated with the internal ALB)."
  value       = aws_wafv2_web_acl.this.arn
}

output "web_acl_name" {
  description = "Name of the web ACL."
  value       = aws_wafv2_web_acl.this.name
}

output "log_group_name" {
  description = "Where WAF logs go (authorization and cookie headers redacted)."
  value       = aws_cloudwatch_log_group.waf.name
}
