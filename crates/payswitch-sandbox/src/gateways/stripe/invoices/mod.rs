//! Stripe Invoices: the lines they bill ([`lines`]), their JSON ([`render`]), issuing them
//! ([`issue`]), collecting them and retrying failed payments ([`collect`]), what the clock
//! does to them ([`clock`]), `GET /v1/invoices…` ([`read`]) and
//! `POST /v1/invoices/create_preview` ([`preview`]).

pub(crate) mod clock;
pub(crate) mod collect;
pub(crate) mod issue;
pub(crate) mod lines;
pub(crate) mod preview;
pub(crate) mod read;
pub(crate) mod render;
