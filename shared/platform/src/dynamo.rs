//! Attribute-value shorthands every DynamoDB store in the workspace writes with.

use aws_sdk_dynamodb::types::AttributeValue;

/// A string attribute.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute (DynamoDB carries numbers as their decimal text).
pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_numbers_become_their_attribute_kinds() {
        assert_eq!(s("a"), AttributeValue::S("a".into()));
        assert_eq!(n(-42_i64), AttributeValue::N("-42".into()));
    }
}
