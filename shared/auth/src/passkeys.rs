//! WebAuthn passkeys through `webauthn-rs`: the relying party (id and origin from configuration) and the ceremony
//! states, serialised so that they can be kept server-side between the start and finish requests of a stateless
//! function.

use webauthn_rs::prelude::Url;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::principal::UserId;

/// The relying party: `MEDVAULT_WEBAUTHN_RP_ID` (a registrable domain, e.g. `app.example.org`, or `localhost`) and
/// `MEDVAULT_WEBAUTHN_ORIGIN` (the SPA's origin, e.g. `https://app.example.org`).
#[derive(Debug, Clone)]
pub struct RelyingParty {
    pub id: String,
    pub origin: Url,
}

/// A passkey ceremony failed. The details go to the logs, never to the caller.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("the relying party configuration is invalid")]
    Config(#[source] WebauthnError),
    #[error("the WebAuthn ceremony failed")]
    Ceremony(#[source] WebauthnError),
    #[error("the stored passkey state is malformed")]
    State(#[source] serde_json::Error),
}

/// Registers and checks passkeys for one relying party.
#[derive(Debug, Clone)]
pub struct Passkeys {
    webauthn: std::sync::Arc<Webauthn>,
}

impl Passkeys {
    pub fn new(rp: &RelyingParty) -> Result<Self, PasskeyError> {
        let webauthn = WebauthnBuilder::new(&rp.id, &rp.origin)
            .map_err(PasskeyError::Config)?
            .rp_name("medvault")
            .build()
            .map_err(PasskeyError::Config)?;
        Ok(Self { webauthn: std::sync::Arc::new(webauthn) })
    }

    /// Starts registering a passkey for `user`; returns the options for the browser and the state to keep.
    pub fn start_registration(
        &self,
        user: UserId,
        email: &str,
        existing: &str,
    ) -> Result<(CreationChallengeResponse, String), PasskeyError> {
        let exclude: Vec<_> = parse(existing)?.iter().map(|p| p.cred_id().clone()).collect();
        let (options, state) = self
            .webauthn
            .start_passkey_registration(user.as_uuid(), email, email, Some(exclude))
            .map_err(PasskeyError::Ceremony)?;
        Ok((options, serde_json::to_string(&state).map_err(PasskeyError::State)?))
    }

    /// Finishes a registration; returns the user's passkeys with the new one added (as stored JSON).
    pub fn finish_registration(
        &self,
        credential: &RegisterPublicKeyCredential,
        state: &str,
        existing: &str,
    ) -> Result<String, PasskeyError> {
        let state: PasskeyRegistration = serde_json::from_str(state).map_err(PasskeyError::State)?;
        let passkey = self.webauthn.finish_passkey_registration(credential, &state).map_err(PasskeyError::Ceremony)?;
        let mut all = parse(existing)?;
        all.push(passkey);
        serde_json::to_string(&all).map_err(PasskeyError::State)
    }

    /// Starts an assertion with the user's passkeys.
    pub fn start_authentication(&self, existing: &str) -> Result<(RequestChallengeResponse, String), PasskeyError> {
        let passkeys = parse(existing)?;
        let (options, state) = self.webauthn.start_passkey_authentication(&passkeys).map_err(PasskeyError::Ceremony)?;
        Ok((options, serde_json::to_string(&state).map_err(PasskeyError::State)?))
    }

    /// Checks an assertion (signature, challenge, origin, RP id, user verification); returns the passkeys with the
    /// used one's counter updated, when it changed.
    pub fn finish_authentication(
        &self,
        credential: &PublicKeyCredential,
        state: &str,
        existing: &str,
    ) -> Result<Option<String>, PasskeyError> {
        let state: PasskeyAuthentication = serde_json::from_str(state).map_err(PasskeyError::State)?;
        let result = self.webauthn.finish_passkey_authentication(credential, &state).map_err(PasskeyError::Ceremony)?;
        let mut passkeys = parse(existing)?;
        // Every passkey is offered the result (only the one that signed changes); no short-circuit.
        let mut changed = false;
        for passkey in &mut passkeys {
            changed |= passkey.update_credential(&result).unwrap_or(false);
        }
        if changed { Ok(Some(serde_json::to_string(&passkeys).map_err(PasskeyError::State)?)) } else { Ok(None) }
    }
}

fn parse(stored: &str) -> Result<Vec<Passkey>, PasskeyError> {
    serde_json::from_str(stored).map_err(PasskeyError::State)
}
