//! Gateway customers tied to the application's users, and the customer portal.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PaymentError;
use crate::kind::ProviderKind;
use crate::raw::RawJson;

/// The metadata key under which every adapter keeps the application's user id on the
/// gateway's customer, so the customer can be found again from the user.
pub const APP_USER_ID_KEY: &str = "app_user_id";

/// A customer to create at the gateway.
///
/// ```
/// use payswitch_core::CustomerRequest;
/// let request = CustomerRequest::for_app_user("user_42").email("ada@example.com").name("Ada");
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CustomerRequest {
    /// The application's own user id, kept in the gateway's metadata under
    /// [`APP_USER_ID_KEY`].
    pub app_user_id: Option<String>,
    /// The customer's email.
    pub email: Option<String>,
    /// The customer's name.
    pub name: Option<String>,
    /// More metadata.
    pub metadata: BTreeMap<String, String>,
}

impl CustomerRequest {
    /// A customer for the application's user `app_user_id`.
    pub fn for_app_user(app_user_id: impl Into<String>) -> Self {
        Self {
            app_user_id: Some(app_user_id.into()),
            email: None,
            name: None,
            metadata: BTreeMap::new(),
        }
    }

    /// A customer known by email only.
    pub fn with_email(email: impl Into<String>) -> Self {
        Self {
            app_user_id: None,
            email: Some(email.into()),
            name: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Sets the email.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The metadata to send: `metadata` plus the app user id under [`APP_USER_ID_KEY`].
    pub fn gateway_metadata(&self) -> BTreeMap<String, String> {
        let mut metadata = self.metadata.clone();
        if let Some(user) = &self.app_user_id {
            metadata.insert(APP_USER_ID_KEY.to_owned(), user.clone());
        }
        metadata
    }

    /// Checks the request locally: it identifies someone (an app user id or an email), the
    /// email looks like one, and the metadata does not set [`APP_USER_ID_KEY`] itself.
    pub fn validate(&self) -> Result<(), PaymentError> {
        if self.app_user_id.is_none() && self.email.is_none() {
            return Err(PaymentError::invalid(
                "app_user_id",
                "a customer needs an app user id, an email or both",
            ));
        }
        if let Some(user) = &self.app_user_id {
            if user.trim().is_empty() || user.len() > 500 {
                return Err(PaymentError::invalid(
                    "app_user_id",
                    "must be 1 to 500 characters",
                ));
            }
        }
        if let Some(email) = &self.email {
            crate::request::check_email("email", email)?;
        }
        if self.metadata.contains_key(APP_USER_ID_KEY) {
            return Err(PaymentError::invalid(
                "metadata",
                format!("{APP_USER_ID_KEY:?} is set from app_user_id"),
            ));
        }
        Ok(())
    }
}

/// How to find an existing gateway customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerLookup {
    /// By the application's user id (kept under [`APP_USER_ID_KEY`]).
    AppUserId(String),
    /// By email (the first match when several customers share it).
    Email(String),
}

/// A customer as the gateway reports it, normalized.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// The gateway's customer id (Stripe `cus_…`, Creem `cust_…`).
    pub id: String,
    /// The gateway that holds it.
    pub provider: ProviderKind,
    /// The customer's email.
    pub email: Option<String>,
    /// The customer's name.
    pub name: Option<String>,
    /// The application's user id, from the metadata.
    pub app_user_id: Option<String>,
    /// The customer's metadata (without [`APP_USER_ID_KEY`]).
    pub metadata: BTreeMap<String, String>,
    /// When the gateway created it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// The gateway's own object, as an escape hatch.
    pub raw: RawJson,
}

impl Customer {
    /// Makes a customer from its id and the gateway's metadata, moving
    /// [`APP_USER_ID_KEY`] into [`app_user_id`](Self::app_user_id).
    pub fn new(
        id: impl Into<String>,
        provider: ProviderKind,
        mut metadata: BTreeMap<String, String>,
    ) -> Self {
        let app_user_id = metadata.remove(APP_USER_ID_KEY);
        Self {
            id: id.into(),
            provider,
            email: None,
            name: None,
            app_user_id,
            metadata,
            created_at: None,
            raw: RawJson::default(),
        }
    }
}

/// A customer-portal session to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PortalRequest {
    /// The gateway's customer id.
    pub customer_id: String,
    /// Where the portal's "back" link goes, where the gateway supports it.
    pub return_url: Option<String>,
}

impl PortalRequest {
    /// A portal session for `customer_id`.
    pub fn new(customer_id: impl Into<String>) -> Self {
        Self {
            customer_id: customer_id.into(),
            return_url: None,
        }
    }

    /// Sets the return URL.
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }

    /// Checks the request locally: a customer id, and an absolute http(s) return URL.
    pub fn validate(&self) -> Result<(), PaymentError> {
        if self.customer_id.trim().is_empty() {
            return Err(PaymentError::invalid("customer_id", "the id is empty"));
        }
        if let Some(url) = &self.return_url {
            crate::request::check_url("return_url", url)?;
        }
        Ok(())
    }
}

/// A customer-portal session: send the customer to `url`.
///
/// The URL lets whoever holds it manage the customer's payment methods and subscriptions, so
/// `Debug` leaves it out; redirect to it, never log it.
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct PortalSession {
    /// The gateway that opened it.
    pub provider: ProviderKind,
    /// The customer it is for.
    pub customer_id: String,
    /// Where to send the customer.
    #[serde(skip)]
    pub url: String,
    /// The return URL the gateway will use, when it took one.
    pub return_url: Option<String>,
    /// Request fields this gateway could not honour (`return_url` on gateways without one).
    pub ignored: Vec<String>,
    /// The gateway's own object (which holds the URL too: do not log it).
    #[serde(skip)]
    pub raw: RawJson,
}

impl PortalSession {
    /// Makes a session for `customer_id` at `url`.
    pub fn new(
        provider: ProviderKind,
        customer_id: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        Self {
            provider,
            customer_id: customer_id.into(),
            url: url.into(),
            return_url: None,
            ignored: Vec::new(),
            raw: RawJson::default(),
        }
    }
}

impl fmt::Debug for PortalSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalSession")
            .field("provider", &self.provider)
            .field("customer_id", &self.customer_id)
            .field("url", &"[redacted]")
            .field("return_url", &self.return_url)
            .field("ignored", &self.ignored)
            .finish_non_exhaustive()
    }
}
