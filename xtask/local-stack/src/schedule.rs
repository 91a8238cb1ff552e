//! EventBridge schedules: `rate(...)` and AWS's six-field `cron(...)` expressions, and the "Scheduled Event"
//! payload a scheduled function receives.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::function::ScheduleSource;
use crate::template::ACCOUNT_ID;

/// A parsed schedule expression.
#[derive(Debug, Clone)]
pub enum Schedule {
    Rate(Duration),
    /// Parsed by the `cron` crate (seconds field prepended: AWS's fields are minutes to year).
    Cron(Box<cron::Schedule>),
}

impl Schedule {
    /// Parses `rate(5 minutes)` or `cron(0 3 * * ? *)`.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let expression = expression.trim();
        if let Some(body) = expression.strip_prefix("rate(").and_then(|e| e.strip_suffix(')')) {
            let (count, unit) = body.trim().split_once(' ').ok_or_else(|| format!("{expression}: rate(<n> <unit>)"))?;
            let count: u64 = count.parse().map_err(|_| format!("{expression}: the rate is not a number"))?;
            let seconds = match unit.trim() {
                "minute" | "minutes" => 60,
                "hour" | "hours" => 3600,
                "day" | "days" => 86_400,
                other => return Err(format!("{expression}: unknown unit {other}")),
            };
            if count == 0 {
                return Err(format!("{expression}: the rate must be positive"));
            }
            return Ok(Self::Rate(Duration::from_secs(count * seconds)));
        }
        if let Some(body) = expression.strip_prefix("cron(").and_then(|e| e.strip_suffix(')')) {
            let fields: Vec<&str> = body.split_whitespace().collect();
            if fields.len() != 6 {
                return Err(format!(
                    "{expression}: AWS cron takes 6 fields (minutes hours day-of-month month day-of-week year)"
                ));
            }
            if fields.iter().any(|f| unsupported(f)) {
                return Err(format!("{expression}: L, W and # are not supported by the local stack"));
            }
            let schedule = cron::Schedule::from_str(&format!("0 {}", fields.join(" ")))
                .map_err(|e| format!("{expression}: {e}"))?;
            return Ok(Self::Cron(Box::new(schedule)));
        }
        Err(format!("{expression}: neither rate(...) nor cron(...)"))
    }

    /// The first firing strictly after `after`, for a schedule that started at `started`.
    pub fn next_after(&self, started: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Rate(every) => {
                let every = chrono::Duration::from_std(*every).ok()?;
                let mut next = started + every;
                while next <= after {
                    next += every;
                }
                Some(next)
            }
            Self::Cron(schedule) => schedule.after(&after).next(),
        }
    }
}

/// AWS cron's `L`, `W` and `#` (last day, weekday, nth weekday), which the `cron` crate does not take.
fn unsupported(field: &str) -> bool {
    field.contains('#')
        || field.split(',').any(|token| {
            token == "L"
                || token == "LW"
                || (token.len() > 1
                    && (token.ends_with('L') || token.ends_with('W'))
                    && token[..token.len() - 1].chars().all(|c| c.is_ascii_digit()))
        })
}

/// The event a scheduled function receives: the template's `Input`, else EventBridge's "Scheduled Event".
pub fn payload(source: &ScheduleSource, region: &str, at: DateTime<Utc>) -> Value {
    if let Some(input) = &source.input {
        return serde_json::from_str(input).unwrap_or_else(|_| Value::String(input.clone()));
    }
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": source.source,
        "account": ACCOUNT_ID,
        "time": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": region,
        "resources": [source.rule_arn],
        "detail": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rates_fire_every_period_after_the_start() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let schedule = Schedule::parse("rate(5 minutes)").unwrap();
        let next = schedule.next_after(start, start + chrono::Duration::minutes(7)).unwrap();
        assert_eq!(next, start + chrono::Duration::minutes(10));
    }

    #[test]
    fn aws_cron_fields_are_minutes_to_year_with_sunday_as_one() {
        // 03:15 on Mondays (AWS: 2 = MON).
        let schedule = Schedule::parse("cron(15 3 ? * 2 *)").unwrap();
        let friday = Utc.with_ymd_and_hms(2026, 1, 2, 12, 0, 0).unwrap();
        let next = schedule.next_after(friday, friday).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 1, 5, 3, 15, 0).unwrap());
    }

    #[test]
    fn malformed_expressions_are_refused_with_the_expression() {
        assert!(Schedule::parse("rate(0 minutes)").is_err());
        assert!(Schedule::parse("cron(* * * *)").unwrap_err().contains("6 fields"));
        assert!(Schedule::parse("every day").is_err());
    }
}
