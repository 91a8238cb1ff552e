//! Login throttling: per account and per source address, growing delays after a few free failures.
//!
//! The account key is a hash of the email as submitted, whether or not such an account exists, so a lockout looks
//! the same for every address and says nothing about which accounts exist.

use std::time::Duration;

use crate::otp::token_hash;

/// How failures turn into delays for one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures within the window that cost nothing.
    pub free_failures: u32,
    /// The delay after the first failure past the free ones; each further failure doubles it.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl ThrottlePolicy {
    /// Per account: five free failures, then 30 s, 60 s, 120 s ... up to 15 minutes.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 5,
        base_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(900),
        window: Duration::from_secs(900),
    };

    /// Per source address: fifty free failures (a clinic behind one NAT), then the same growth.
    pub const SOURCE: ThrottlePolicy = ThrottlePolicy {
        free_failures: 50,
        base_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(900),
        window: Duration::from_secs(900),
    };

    /// How long a key is locked after its `failures`-th failure in the window.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures <= self.free_failures {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_failures - 1).min(20);
        self.base_delay.saturating_mul(1u32 << doublings).min(self.max_delay)
    }
}

/// What is throttled: the throttle table key of an account or of an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleKey {
    pub key: String,
    pub policy: ThrottlePolicy,
}

impl ThrottleKey {
    /// The key of the account named by `email_key` (the normalised email as submitted), hashed so that the table
    /// holds no addresses.
    pub fn account(email_key: &str, policy: ThrottlePolicy) -> Self {
        Self { key: format!("acct#{}", token_hash(&format!("email:{email_key}"))), policy }
    }

    pub fn source(ip: &str, policy: ThrottlePolicy) -> Self {
        Self { key: format!("ip#{ip}"), policy }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_and_double_up_to_the_cap() {
        let policy = ThrottlePolicy::ACCOUNT;
        let delays: Vec<u64> = (1..=12).map(|n| policy.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(policy.delay_after(u32::MAX), policy.max_delay);
    }

    #[test]
    fn account_keys_hide_the_address_and_ignore_nothing() {
        let a = ThrottleKey::account("ana@example.org", ThrottlePolicy::ACCOUNT);
        assert!(!a.key.contains("example"));
        assert_ne!(a, ThrottleKey::account("bo@example.org", ThrottlePolicy::ACCOUNT));
    }
}
