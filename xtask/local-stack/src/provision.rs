//! Creating the template's resources on the emulator, one CloudFormation type at a time.
//!
//! Created: `AWS::DynamoDB::Table`, `AWS::Serverless::SimpleTable`, `AWS::S3::Bucket`, `AWS::SQS::Queue`,
//! `AWS::SQS::QueuePolicy`, `AWS::SNS::Topic`, `AWS::SNS::Subscription`, `AWS::KMS::Key`, `AWS::KMS::Alias`,
//! `AWS::SecretsManager::Secret`, `AWS::Events::EventBus`, `AWS::Events::Rule` (targets the emulator can reach:
//! SQS, SNS, event buses; function targets of schedule rules are fired by the stack itself).
//!
//! Every other type (IAM roles and policies, CloudWatch alarms and dashboards, log groups, WAF, load balancers,
//! API Gateway resources, Lambda permissions and versions, SSM parameters, ...) is skipped with a debug log: it
//! gets a physical name and an ARN so that `Ref`/`Fn::GetAtt` on it still resolve, and nothing more.

use std::collections::HashMap;

use aws_sdk_dynamodb::types as ddb;
use aws_sdk_s3::types as s3;
use serde_json::Value;

use crate::clients::Clients;
use crate::error::{StackError, detail};
use crate::resource::{Resource, bucket_name, default_name};
use crate::template::{ACCOUNT_ID, RawResource, scalar_text};

/// Context for creating one resource: its resolved properties and the stack's naming.
pub struct Provision<'a> {
    pub clients: &'a Clients,
    pub stack_name: &'a str,
    pub region: &'a str,
    /// ARNs of the stack's functions: rule targets pointing at them are handled by the stack, not the emulator.
    pub function_arns: &'a [String],
}

impl std::fmt::Debug for Provision<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provision").field("stack_name", &self.stack_name).finish_non_exhaustive()
    }
}

type Outcome = Result<Resource, String>;

impl Provision<'_> {
    /// Creates `raw` (with `properties` already resolved) and returns what `Ref` and `Fn::GetAtt` give for it.
    pub async fn create(&self, raw: &RawResource, properties: &Value) -> Result<Resource, StackError> {
        let id = raw.logical_id.as_str();
        let outcome = match raw.kind.as_str() {
            "AWS::DynamoDB::Table" => self.table(id, properties).await,
            "AWS::Serverless::SimpleTable" => self.simple_table(id, properties).await,
            "AWS::S3::Bucket" => self.bucket(id, properties).await,
            "AWS::SQS::Queue" => self.queue(id, properties).await,
            "AWS::SQS::QueuePolicy" => self.queue_policy(id, properties).await,
            "AWS::SNS::Topic" => self.topic(id, properties).await,
            "AWS::SNS::Subscription" => self.subscription(id, properties).await,
            "AWS::KMS::Key" => self.key(id, properties).await,
            "AWS::KMS::Alias" => self.alias(id, properties).await,
            "AWS::SecretsManager::Secret" => self.secret(id, properties).await,
            "AWS::Events::EventBus" => self.event_bus(id, properties).await,
            "AWS::Events::Rule" => self.rule(id, properties).await,
            kind => {
                tracing::debug!(logical_id = id, kind, "not held by the emulator: skipped (names only)");
                Ok(self.skipped(id, kind, properties))
            }
        };
        outcome.map_err(|detail| StackError::Create { logical_id: id.to_owned(), kind: raw.kind.clone(), detail })
    }

    fn name(&self, id: &str, properties: &Value, key: &str) -> String {
        text(properties, key).unwrap_or_else(|| default_name(self.stack_name, id))
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{ACCOUNT_ID}:{resource}", self.region)
    }

    /// A resource the emulator does not hold: a name and an ARN of the usual shape.
    pub fn skipped(&self, id: &str, kind: &str, properties: &Value) -> Resource {
        let name = ["Name", "RoleName", "PolicyName", "LogGroupName", "AlarmName", "FunctionName"]
            .iter()
            .find_map(|key| text(properties, key))
            .unwrap_or_else(|| default_name(self.stack_name, id));
        let mut parts = kind.split("::").skip(1);
        let service = parts.next().unwrap_or("unknown").to_lowercase();
        let noun = parts.next().unwrap_or("resource").to_lowercase();
        let arn = match service.as_str() {
            "iam" => format!("arn:aws:iam::{ACCOUNT_ID}:{noun}/{name}"),
            _ => self.arn(&service, &format!("{noun}/{name}")),
        };
        let mut resource = Resource::new(id, kind, name.clone()).with("Arn", arn).with("Name", name);
        resource.emulated = false;
        resource
    }

    async fn table(&self, id: &str, p: &Value) -> Outcome {
        let name = self.name(id, p, "TableName");
        let mut request = self.clients.dynamodb.create_table().table_name(&name);
        for key in list(p, "KeySchema") {
            request = request.key_schema(key_element(key)?);
        }
        for attribute in list(p, "AttributeDefinitions") {
            request = request.attribute_definitions(
                ddb::AttributeDefinition::builder()
                    .attribute_name(text(attribute, "AttributeName").unwrap_or_default())
                    .attribute_type(ddb::ScalarAttributeType::from(
                        text(attribute, "AttributeType").unwrap_or_default().as_str(),
                    ))
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        let billing = text(p, "BillingMode").unwrap_or_else(|| {
            if p.get("ProvisionedThroughput").is_some() { "PROVISIONED".into() } else { "PAY_PER_REQUEST".into() }
        });
        request = request.billing_mode(ddb::BillingMode::from(billing.as_str()));
        if let Some(throughput) = p.get("ProvisionedThroughput") {
            request = request.provisioned_throughput(throughput_of(throughput)?);
        }
        for index in list(p, "GlobalSecondaryIndexes") {
            let mut gsi = ddb::GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName").unwrap_or_default())
                .projection(projection(index.get("Projection")));
            for key in list(index, "KeySchema") {
                gsi = gsi.key_schema(key_element(key)?);
            }
            if let Some(throughput) = index.get("ProvisionedThroughput") {
                gsi = gsi.provisioned_throughput(throughput_of(throughput)?);
            }
            request = request.global_secondary_indexes(gsi.build().map_err(|e| e.to_string())?);
        }
        for index in list(p, "LocalSecondaryIndexes") {
            let mut lsi = ddb::LocalSecondaryIndex::builder()
                .index_name(text(index, "IndexName").unwrap_or_default())
                .projection(projection(index.get("Projection")));
            for key in list(index, "KeySchema") {
                lsi = lsi.key_schema(key_element(key)?);
            }
            request = request.local_secondary_indexes(lsi.build().map_err(|e| e.to_string())?);
        }
        if let Some(view) = p.pointer("/StreamSpecification/StreamViewType").and_then(Value::as_str) {
            request = request.stream_specification(
                ddb::StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(ddb::StreamViewType::from(view))
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        if let Some(sse) = p.get("SSESpecification") {
            let mut spec = ddb::SseSpecification::builder().enabled(flag(sse, "SSEEnabled").unwrap_or(false));
            if let Some(kind) = text(sse, "SSEType") {
                spec = spec.sse_type(ddb::SseType::from(kind.as_str()));
            }
            if let Some(key) = text(sse, "KMSMasterKeyId") {
                spec = spec.kms_master_key_id(key);
            }
            request = request.sse_specification(spec.build());
        }
        // Tags carry meaning to the jobs (e.g. `medvault:backup=exclude` keeps the patient-keys table out of backups).
        for tag in list(p, "Tags") {
            if let (Some(key), Some(value)) = (text(tag, "Key"), text(tag, "Value")) {
                request = request.tags(ddb::Tag::builder().key(key).value(value).build().map_err(|e| e.to_string())?);
            }
        }
        let created = request.send().await.map_err(|e| detail(&e))?;
        let description = created.table_description();
        let arn = description
            .and_then(|d| d.table_arn())
            .map(str::to_owned)
            .unwrap_or_else(|| self.arn("dynamodb", &format!("table/{name}")));
        let mut resource = Resource::new(id, "AWS::DynamoDB::Table", &name).with("Arn", arn);
        if let Some(stream) = description.and_then(|d| d.latest_stream_arn()) {
            resource = resource.with("StreamArn", stream);
        }
        if let Some(ttl) = p.get("TimeToLiveSpecification").filter(|t| flag(t, "Enabled").unwrap_or(false)) {
            self.clients
                .dynamodb
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    ddb::TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name(text(ttl, "AttributeName").unwrap_or_default())
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map_err(|e| detail(&e))?;
        }
        if let Some(pitr) = p.get("PointInTimeRecoverySpecification") {
            self.clients
                .dynamodb
                .update_continuous_backups()
                .table_name(&name)
                .point_in_time_recovery_specification(
                    ddb::PointInTimeRecoverySpecification::builder()
                        .point_in_time_recovery_enabled(flag(pitr, "PointInTimeRecoveryEnabled").unwrap_or(false))
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map_err(|e| detail(&e))?;
        }
        Ok(resource)
    }

    async fn simple_table(&self, id: &str, p: &Value) -> Outcome {
        let key = text(p, "PrimaryKey/Name").unwrap_or_else(|| "id".into());
        let kind = text(p, "PrimaryKey/Type").map(|t| {
            if t == "Number" {
                "N"
            } else if t == "Binary" {
                "B"
            } else {
                "S"
            }
        });
        let mut table = serde_json::json!({
            "KeySchema": [{ "AttributeName": key, "KeyType": "HASH" }],
            "AttributeDefinitions": [{ "AttributeName": key, "AttributeType": kind.unwrap_or("S") }],
            "BillingMode": if p.get("ProvisionedThroughput").is_some() { "PROVISIONED" } else { "PAY_PER_REQUEST" },
        });
        for key in ["TableName", "ProvisionedThroughput", "SSESpecification"] {
            if let Some(v) = p.get(key) {
                table[key] = v.clone();
            }
        }
        let mut resource = self.table(id, &table).await?;
        resource.kind = "AWS::Serverless::SimpleTable".into();
        Ok(resource)
    }

    async fn bucket(&self, id: &str, p: &Value) -> Outcome {
        let name = text(p, "BucketName").unwrap_or_else(|| bucket_name(self.stack_name, id));
        let s3c = &self.clients.s3;
        let mut request = s3c.create_bucket().bucket(&name);
        if self.region != "us-east-1" {
            request = request.create_bucket_configuration(
                s3::CreateBucketConfiguration::builder()
                    .location_constraint(s3::BucketLocationConstraint::from(self.region))
                    .build(),
            );
        }
        let object_lock = p.pointer("/ObjectLockEnabled").and_then(|v| v.as_bool().or(v.as_str().map(|s| s == "true")));
        if object_lock == Some(true) {
            request = request.object_lock_enabled_for_bucket(true);
        }
        request.send().await.map_err(|e| detail(&e))?;
        if let Some(status) = text(p, "VersioningConfiguration/Status") {
            s3c.put_bucket_versioning()
                .bucket(&name)
                .versioning_configuration(
                    s3::VersioningConfiguration::builder()
                        .status(s3::BucketVersioningStatus::from(status.as_str()))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| detail(&e))?;
        }
        if let Some(lock) = p.get("ObjectLockConfiguration") {
            let mut configuration =
                s3::ObjectLockConfiguration::builder().object_lock_enabled(s3::ObjectLockEnabled::Enabled);
            if let Some(retention) = lock.pointer("/Rule/DefaultRetention") {
                let mut default = s3::DefaultRetention::builder();
                if let Some(mode) = text(retention, "Mode") {
                    default = default.mode(s3::ObjectLockRetentionMode::from(mode.as_str()));
                }
                if let Some(days) = number::<i32>(retention, "Days") {
                    default = default.days(days);
                }
                if let Some(years) = number::<i32>(retention, "Years") {
                    default = default.years(years);
                }
                configuration =
                    configuration.rule(s3::ObjectLockRule::builder().default_retention(default.build()).build());
            }
            s3c.put_object_lock_configuration()
                .bucket(&name)
                .object_lock_configuration(configuration.build())
                .send()
                .await
                .map_err(|e| detail(&e))?;
        }
        if let Some(rules) = p.pointer("/BucketEncryption/ServerSideEncryptionConfiguration").and_then(Value::as_array)
        {
            let mut configuration = s3::ServerSideEncryptionConfiguration::builder();
            for rule in rules {
                let mut default =
                    s3::ServerSideEncryptionByDefault::builder().sse_algorithm(s3::ServerSideEncryption::from(
                        text(rule, "ServerSideEncryptionByDefault/SSEAlgorithm")
                            .unwrap_or_else(|| "AES256".into())
                            .as_str(),
                    ));
                if let Some(key) = text(rule, "ServerSideEncryptionByDefault/KMSMasterKeyID") {
                    default = default.kms_master_key_id(key);
                }
                let mut built = s3::ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default.build().map_err(|e| e.to_string())?);
                if let Some(bucket_key) = flag(rule, "BucketKeyEnabled") {
                    built = built.bucket_key_enabled(bucket_key);
                }
                configuration = configuration.rules(built.build());
            }
            s3c.put_bucket_encryption()
                .bucket(&name)
                .server_side_encryption_configuration(configuration.build().map_err(|e| e.to_string())?)
                .send()
                .await
                .map_err(|e| detail(&e))?;
        }
        if let Some(block) = p.get("PublicAccessBlockConfiguration") {
            let configuration = s3::PublicAccessBlockConfiguration::builder()
                .set_block_public_acls(flag(block, "BlockPublicAcls"))
                .set_block_public_policy(flag(block, "BlockPublicPolicy"))
                .set_ignore_public_acls(flag(block, "IgnorePublicAcls"))
                .set_restrict_public_buckets(flag(block, "RestrictPublicBuckets"))
                .build();
            // moto accepts this on every version seen; a refusal is not worth failing the stack for.
            if let Err(error) = s3c
                .put_public_access_block()
                .bucket(&name)
                .public_access_block_configuration(configuration)
                .send()
                .await
            {
                tracing::debug!(bucket = %name, error = %detail(&error), "public access block not applied");
            }
        }
        if let Some(notifications) = p.get("NotificationConfiguration") {
            self.bucket_notifications(&name, notifications).await?;
        }
        Ok(Resource::new(id, "AWS::S3::Bucket", &name)
            .with("Arn", format!("arn:aws:s3:::{name}"))
            .with("DomainName", format!("{name}.s3.amazonaws.com"))
            .with("RegionalDomainName", format!("{name}.s3.{}.amazonaws.com", self.region))
            .with("DualStackDomainName", format!("{name}.s3.dualstack.{}.amazonaws.com", self.region))
            .with("WebsiteURL", format!("http://{name}.s3-website-{}.amazonaws.com", self.region)))
    }

    async fn bucket_notifications(&self, bucket: &str, n: &Value) -> Result<(), String> {
        let mut configuration = s3::NotificationConfiguration::builder();
        for queue in list(n, "QueueConfigurations") {
            let mut built = s3::QueueConfiguration::builder()
                .queue_arn(text(queue, "Queue").unwrap_or_default())
                .events(s3::Event::from(text(queue, "Event").unwrap_or_default().as_str()));
            if let Some(filter) = key_filter(queue) {
                built = built.filter(filter);
            }
            configuration = configuration.queue_configurations(built.build().map_err(|e| e.to_string())?);
        }
        for topic in list(n, "TopicConfigurations") {
            let mut built = s3::TopicConfiguration::builder()
                .topic_arn(text(topic, "Topic").unwrap_or_default())
                .events(s3::Event::from(text(topic, "Event").unwrap_or_default().as_str()));
            if let Some(filter) = key_filter(topic) {
                built = built.filter(filter);
            }
            configuration = configuration.topic_configurations(built.build().map_err(|e| e.to_string())?);
        }
        if !list(n, "LambdaConfigurations").is_empty() {
            tracing::debug!(bucket, "S3 -> Lambda notifications are not emulated; route uploads through SQS");
        }
        self.clients
            .s3
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(configuration.build())
            .send()
            .await
            .map_err(|e| detail(&e))?;
        Ok(())
    }

    async fn queue(&self, id: &str, p: &Value) -> Outcome {
        let fifo = flag(p, "FifoQueue").unwrap_or(false);
        let mut name = self.name(id, p, "QueueName");
        if fifo && !name.ends_with(".fifo") {
            name.push_str(".fifo");
        }
        let mut attributes = HashMap::new();
        for key in [
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "MaximumMessageSize",
            "ReceiveMessageWaitTimeSeconds",
            "FifoQueue",
            "ContentBasedDeduplication",
            "KmsMasterKeyId",
            "KmsDataKeyReusePeriodSeconds",
            "SqsManagedSseEnabled",
            "DeduplicationScope",
            "FifoThroughputLimit",
        ] {
            if let Some(value) = p.get(key) {
                attributes.insert(aws_sdk_sqs::types::QueueAttributeName::from(key), scalar_text(value));
            }
        }
        for key in ["RedrivePolicy", "RedriveAllowPolicy"] {
            if let Some(value) = p.get(key) {
                let text = if let Value::String(s) = value { s.clone() } else { value.to_string() };
                attributes.insert(aws_sdk_sqs::types::QueueAttributeName::from(key), text);
            }
        }
        let created = self
            .clients
            .sqs
            .create_queue()
            .queue_name(&name)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| detail(&e))?;
        let url = created.queue_url().unwrap_or_default().to_owned();
        Ok(Resource::new(id, "AWS::SQS::Queue", &url)
            .with("Arn", self.arn("sqs", &name))
            .with("QueueUrl", url)
            .with("QueueName", name))
    }

    async fn queue_policy(&self, id: &str, p: &Value) -> Outcome {
        let policy = p.get("PolicyDocument").map(Value::to_string).unwrap_or_default();
        for queue in list(p, "Queues") {
            let url = scalar_text(queue);
            self.clients
                .sqs
                .set_queue_attributes()
                .queue_url(&url)
                .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, &policy)
                .send()
                .await
                .map_err(|e| detail(&e))?;
        }
        Ok(Resource::new(id, "AWS::SQS::QueuePolicy", default_name(self.stack_name, id)))
    }

    async fn topic(&self, id: &str, p: &Value) -> Outcome {
        let fifo = flag(p, "FifoTopic").unwrap_or(false);
        let mut name = self.name(id, p, "TopicName");
        if fifo && !name.ends_with(".fifo") {
            name.push_str(".fifo");
        }
        let mut request = self.clients.sns.create_topic().name(&name);
        for key in ["DisplayName", "FifoTopic", "KmsMasterKeyId", "ContentBasedDeduplication"] {
            if let Some(value) = p.get(key) {
                request = request.attributes(key, scalar_text(value));
            }
        }
        let arn = request.send().await.map_err(|e| detail(&e))?.topic_arn().unwrap_or_default().to_owned();
        for subscription in list(p, "Subscription") {
            self.subscribe(&arn, subscription).await?;
        }
        Ok(Resource::new(id, "AWS::SNS::Topic", &arn).with("TopicArn", &arn).with("TopicName", name))
    }

    async fn subscription(&self, id: &str, p: &Value) -> Outcome {
        let topic = text(p, "TopicArn").unwrap_or_default();
        let arn = self.subscribe(&topic, p).await?;
        Ok(Resource::new(id, "AWS::SNS::Subscription", &arn).with("Arn", arn))
    }

    async fn subscribe(&self, topic: &str, p: &Value) -> Result<String, String> {
        let protocol = text(p, "Protocol").unwrap_or_default();
        if protocol == "lambda" {
            tracing::debug!(topic, "SNS -> Lambda subscriptions are not emulated");
            return Ok(format!("{topic}:lambda-not-emulated"));
        }
        let mut request = self
            .clients
            .sns
            .subscribe()
            .topic_arn(topic)
            .protocol(&protocol)
            .endpoint(text(p, "Endpoint").unwrap_or_default());
        if let Some(raw) = flag(p, "RawMessageDelivery") {
            request = request.attributes("RawMessageDelivery", raw.to_string());
        }
        if let Some(filter) = p.get("FilterPolicy") {
            request = request.attributes("FilterPolicy", filter.to_string());
        }
        let created = request.send().await.map_err(|e| detail(&e))?;
        Ok(created.subscription_arn().unwrap_or_default().to_owned())
    }

    async fn key(&self, id: &str, p: &Value) -> Outcome {
        use aws_sdk_kms::types::{KeySpec, KeyUsageType};
        let mut request = self.clients.kms.create_key();
        if let Some(description) = text(p, "Description") {
            request = request.description(description);
        }
        if let Some(spec) = text(p, "KeySpec") {
            request = request.key_spec(KeySpec::from(spec.as_str()));
        }
        if let Some(usage) = text(p, "KeyUsage") {
            request = request.key_usage(KeyUsageType::from(usage.as_str()));
        }
        if let Some(policy) = p.get("KeyPolicy") {
            request = request.policy(if let Value::String(s) = policy { s.clone() } else { policy.to_string() });
        }
        let created = request.send().await.map_err(|e| detail(&e))?;
        let metadata = created.key_metadata().ok_or("CreateKey answered without key metadata")?;
        let key_id = metadata.key_id().to_owned();
        let arn = metadata.arn().map(str::to_owned).unwrap_or_else(|| self.arn("kms", &format!("key/{key_id}")));
        if flag(p, "EnableKeyRotation") == Some(true) {
            self.clients.kms.enable_key_rotation().key_id(&key_id).send().await.map_err(|e| detail(&e))?;
        }
        Ok(Resource::new(id, "AWS::KMS::Key", &key_id).with("Arn", arn).with("KeyId", key_id))
    }

    async fn alias(&self, id: &str, p: &Value) -> Outcome {
        let alias = text(p, "AliasName").ok_or("AliasName is required")?;
        self.clients
            .kms
            .create_alias()
            .alias_name(&alias)
            .target_key_id(text(p, "TargetKeyId").unwrap_or_default())
            .send()
            .await
            .map_err(|e| detail(&e))?;
        Ok(Resource::new(id, "AWS::KMS::Alias", &alias).with("Arn", self.arn("kms", &alias)))
    }

    async fn secret(&self, id: &str, p: &Value) -> Outcome {
        let name = self.name(id, p, "Name");
        let value = match (text(p, "SecretString"), p.get("GenerateSecretString")) {
            (Some(given), _) => Some(given),
            (None, Some(generate)) => Some(self.generate_secret(generate).await?),
            (None, None) => None,
        };
        let mut request = self.clients.secrets.create_secret().name(&name).set_secret_string(value);
        if let Some(description) = text(p, "Description") {
            request = request.description(description);
        }
        if let Some(key) = text(p, "KmsKeyId") {
            request = request.kms_key_id(key);
        }
        let created = request.send().await.map_err(|e| detail(&e))?;
        let arn = created.arn().unwrap_or_default().to_owned();
        Ok(Resource::new(id, "AWS::SecretsManager::Secret", &arn).with("Id", &arn).with("Arn", arn).with("Name", name))
    }

    async fn generate_secret(&self, g: &Value) -> Result<String, String> {
        let generated = self
            .clients
            .secrets
            .get_random_password()
            .set_password_length(number(g, "PasswordLength"))
            .set_exclude_characters(text(g, "ExcludeCharacters"))
            .set_exclude_numbers(flag(g, "ExcludeNumbers"))
            .set_exclude_punctuation(flag(g, "ExcludePunctuation"))
            .set_exclude_uppercase(flag(g, "ExcludeUppercase"))
            .set_exclude_lowercase(flag(g, "ExcludeLowercase"))
            .set_include_space(flag(g, "IncludeSpace"))
            .set_require_each_included_type(flag(g, "RequireEachIncludedType"))
            .send()
            .await
            .map_err(|e| detail(&e))?;
        let password = generated.random_password().unwrap_or_default().to_owned();
        match (text(g, "SecretStringTemplate"), text(g, "GenerateStringKey")) {
            (Some(template), Some(key)) => {
                let mut document: Value =
                    serde_json::from_str(&template).map_err(|e| format!("SecretStringTemplate is not JSON: {e}"))?;
                let object = document.as_object_mut().ok_or("SecretStringTemplate is not a JSON object")?;
                object.insert(key, Value::String(password));
                Ok(document.to_string())
            }
            _ => Ok(password),
        }
    }

    async fn event_bus(&self, id: &str, p: &Value) -> Outcome {
        let name = self.name(id, p, "Name");
        let created = self.clients.events.create_event_bus().name(&name).send().await.map_err(|e| detail(&e))?;
        let arn = created
            .event_bus_arn()
            .map(str::to_owned)
            .unwrap_or_else(|| self.arn("events", &format!("event-bus/{name}")));
        Ok(Resource::new(id, "AWS::Events::EventBus", &name).with("Arn", arn).with("Name", name))
    }

    async fn rule(&self, id: &str, p: &Value) -> Outcome {
        let name = self.name(id, p, "Name");
        let bus = text(p, "EventBusName").map(|b| b.rsplit('/').next().unwrap_or(&b).to_owned());
        let mut request = self.clients.events.put_rule().name(&name).set_event_bus_name(bus.clone());
        if let Some(pattern) = p.get("EventPattern") {
            request =
                request.event_pattern(if let Value::String(s) = pattern { s.clone() } else { pattern.to_string() });
        }
        if let Some(expression) = text(p, "ScheduleExpression") {
            request = request.schedule_expression(expression);
        }
        if let Some(state) = text(p, "State") {
            request = request.state(aws_sdk_eventbridge::types::RuleState::from(state.as_str()));
        }
        let created = request.send().await.map_err(|e| detail(&e))?;
        let arn = created.rule_arn().map(str::to_owned).unwrap_or_else(|| self.arn("events", &format!("rule/{name}")));
        let mut targets = Vec::new();
        for target in list(p, "Targets") {
            let target_arn = text(target, "Arn").unwrap_or_default();
            if self.function_arns.contains(&target_arn) {
                continue;
            }
            if !(target_arn.contains(":sqs:") || target_arn.contains(":sns:") || target_arn.contains(":events:")) {
                tracing::debug!(rule = %name, target = %target_arn, "rule target not reachable on the emulator: skipped");
                continue;
            }
            let mut built = aws_sdk_eventbridge::types::Target::builder()
                .id(text(target, "Id").unwrap_or_else(|| "target".into()))
                .arn(target_arn);
            if let Some(input) = text(target, "Input") {
                built = built.input(input);
            }
            if let Some(path) = text(target, "InputPath") {
                built = built.input_path(path);
            }
            targets.push(built.build().map_err(|e| e.to_string())?);
        }
        if !targets.is_empty() {
            self.clients
                .events
                .put_targets()
                .rule(&name)
                .set_event_bus_name(bus)
                .set_targets(Some(targets))
                .send()
                .await
                .map_err(|e| detail(&e))?;
        }
        Ok(Resource::new(id, "AWS::Events::Rule", &name).with("Arn", arn))
    }
}

fn key_element(key: &Value) -> Result<ddb::KeySchemaElement, String> {
    ddb::KeySchemaElement::builder()
        .attribute_name(text(key, "AttributeName").unwrap_or_default())
        .key_type(ddb::KeyType::from(text(key, "KeyType").unwrap_or_default().as_str()))
        .build()
        .map_err(|e| e.to_string())
}

fn throughput_of(value: &Value) -> Result<ddb::ProvisionedThroughput, String> {
    ddb::ProvisionedThroughput::builder()
        .read_capacity_units(number(value, "ReadCapacityUnits").unwrap_or(1))
        .write_capacity_units(number(value, "WriteCapacityUnits").unwrap_or(1))
        .build()
        .map_err(|e| e.to_string())
}

fn projection(value: Option<&Value>) -> ddb::Projection {
    let value = value.cloned().unwrap_or(Value::Null);
    let kind = text(&value, "ProjectionType").unwrap_or_else(|| "ALL".into());
    let non_key: Vec<String> = list(&value, "NonKeyAttributes").iter().map(scalar_text).collect();
    ddb::Projection::builder()
        .projection_type(ddb::ProjectionType::from(kind.as_str()))
        .set_non_key_attributes((!non_key.is_empty()).then_some(non_key))
        .build()
}

fn key_filter(configuration: &Value) -> Option<s3::NotificationConfigurationFilter> {
    let rules = configuration.pointer("/Filter/S3Key/Rules")?.as_array()?;
    let mut key = s3::S3KeyFilter::builder();
    for rule in rules {
        key = key.filter_rules(
            s3::FilterRule::builder()
                .name(s3::FilterRuleName::from(text(rule, "Name").unwrap_or_default().to_lowercase().as_str()))
                .value(text(rule, "Value").unwrap_or_default())
                .build(),
        );
    }
    Some(s3::NotificationConfigurationFilter::builder().key(key.build()).build())
}

/// A property as text; `path` may name nested keys with `/`.
pub fn text(value: &Value, path: &str) -> Option<String> {
    let mut current = value;
    for part in path.split('/') {
        current = current.get(part)?;
    }
    match current {
        Value::Null | Value::Object(_) => None,
        other => Some(scalar_text(other)),
    }
}

/// A numeric property (numbers and numeric strings alike, as CloudFormation takes both).
pub fn number<T: std::str::FromStr>(value: &Value, key: &str) -> Option<T> {
    text(value, key).and_then(|t| t.parse().ok())
}

/// A boolean property (`true` or `"true"`).
pub fn flag(value: &Value, key: &str) -> Option<bool> {
    text(value, key).and_then(|t| t.parse().ok())
}

/// A list property, empty when absent.
pub fn list<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}
