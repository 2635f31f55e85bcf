//! Stripe Invoices: the lines they bill ([`lines`]), their JSON ([`render`]), issuing and
//! collecting them ([`issue`]), `GET /v1/invoices…` ([`read`]) and
//! `POST /v1/invoices/create_preview` ([`preview`]).

pub(crate) mod issue;
pub(crate) mod lines;
pub(crate) mod preview;
pub(crate) mod read;
pub(crate) mod render;
