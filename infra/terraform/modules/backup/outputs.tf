output "vault_name" {
  description = "The backup vault (SAM: BackupVaultName, for the failed-backup alarm)."
  value       = aws_backup_vault.this.name
}

output "vault_arn" {
  description = "ARN of the backup vault."
  value       = aws_backup_vault.this.arn
}

output "plan_id" {
  description = "The backup plan."
  value       = aws_backup_plan.this.id
}

output "selection_tag" {
  description = "Tag key that puts a resource in the plan (value \"true\")."
  value       = var.selection_tag
}

output "notifications_topic_arn" {
  description = "SNS topic told of failed backup, copy and restore jobs (subscribe the on-call address)."
  value       = aws_sns_topic.backup.arn
}

output "kms_key_arn" {
  description = "Key encrypting the vault's recovery points and the notifications topic."
  value       = aws_kms_key.backup.arn
}
