//! What a created resource looks like from the template: its physical id (`Ref`) and attributes (`Fn::GetAtt`).

use std::collections::BTreeMap;

/// One resource of the stack, as CloudFormation would expose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The template's logical id.
    pub logical_id: String,
    /// The CloudFormation type, e.g. `AWS::SQS::Queue`.
    pub kind: String,
    /// What `Ref` gives: a table or bucket name, a queue URL, a topic or secret ARN, a key id, a function name.
    pub physical_id: String,
    /// What `Fn::GetAtt` gives: `Arn`, `QueueUrl`, `QueueName`, `StreamArn`, `KeyId`, ...
    pub attributes: BTreeMap<String, String>,
    /// False for resources the emulator does not hold (IAM, alarms, ...): they only have names.
    pub emulated: bool,
}

impl Resource {
    pub(crate) fn new(logical_id: &str, kind: &str, physical_id: impl Into<String>) -> Self {
        Self {
            logical_id: logical_id.to_owned(),
            kind: kind.to_owned(),
            physical_id: physical_id.into(),
            attributes: BTreeMap::new(),
            emulated: true,
        }
    }

    pub(crate) fn with(mut self, attribute: &str, value: impl Into<String>) -> Self {
        self.attributes.insert(attribute.to_owned(), value.into());
        self
    }

    /// `Fn::GetAtt` on this resource.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// The resource's ARN, when it has one.
    pub fn arn(&self) -> Option<&str> {
        self.attribute("Arn")
    }
}

/// `<stack>-<LogicalId>`, CloudFormation's shape for names the template leaves out.
pub fn default_name(stack: &str, logical_id: &str) -> String {
    format!("{stack}-{logical_id}")
}

/// A bucket name S3 accepts: lower case, letters, digits, dots and hyphens, 3 to 63 characters.
pub fn bucket_name(stack: &str, logical_id: &str) -> String {
    let raw = default_name(stack, logical_id).to_lowercase();
    let mut name: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect();
    name.truncate(63);
    let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned();
    if name.len() < 3 { format!("{name}-bucket") } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_are_lower_case_and_at_most_63_characters() {
        assert_eq!(bucket_name("Test_Stack", "UploadBucket"), "test-stack-uploadbucket");
        let long = bucket_name(&"x".repeat(80), "Bucket");
        assert!(long.len() <= 63 && long.chars().all(|c| c == 'x'));
    }
}
