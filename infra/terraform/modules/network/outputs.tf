output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Private subnets, one per availability zone (SAM: VpcSubnetIds, comma-joined)."
  value       = aws_subnet.private[*].id
}

output "function_security_group_id" {
  description = "Security group for every function (SAM: FunctionSecurityGroupId)."
  value       = aws_security_group.functions.id
}

output "alb_security_group_id" {
  description = "Security group for the optional internal ALB (SAM: AlbSecurityGroupId)."
  value       = aws_security_group.alb.id
}

output "endpoint_security_group_id" {
  description = "Security group of the interface endpoints."
  value       = aws_security_group.endpoints.id
}

output "interface_endpoint_services" {
  description = "Services reachable through interface endpoints."
  value       = sort(keys(aws_vpc_endpoint.interface))
}
