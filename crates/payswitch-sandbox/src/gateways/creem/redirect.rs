//! Creem's signed success redirect: the parameters Creem appends to the success URL and their
//! `signature`.
//!
//! Creem's TypeScript sample (`armitage-labs/creem` `checkout-api.mdx`) and the Go SDK
//! (`bububa/creem-go` `checkouts/redirect_url.go`) sign only Creem's own parameters, in the
//! fixed order `request_id, checkout_id, order_id, customer_id, subscription_id, product_id`,
//! as `key=value` joined with `|`, then `|salt=<API key>`, SHA-256, lowercase hex. Creem's
//! Python sample hashes every parameter in URL order instead. The sandbox signs the first form
//! by default; [`CreemRedirectSigning::AllParameters`] picks the second.
//!
//! Written from those published descriptions, independently of the adapters (STYLE #9).

use sha2::{Digest, Sha256};

use crate::config::CreemRedirectSigning;
use crate::gateways::creem::objects::Checkout;

/// Creem's own redirect parameters of a checkout, in the order Creem signs them; absent ones
/// are left out.
fn creem_parameters(checkout: &Checkout) -> Vec<(&'static str, String)> {
    let mut parameters = Vec::new();
    if let Some(request_id) = &checkout.request_id {
        parameters.push(("request_id", request_id.clone()));
    }
    parameters.push(("checkout_id", checkout.id.clone()));
    if let Some(payment) = &checkout.payment {
        parameters.push(("order_id", payment.order_id.clone()));
        parameters.push(("customer_id", payment.customer_id.clone()));
        if let Some(subscription_id) = &payment.subscription_id {
            parameters.push(("subscription_id", subscription_id.clone()));
        }
    }
    parameters.push(("product_id", checkout.product_id.clone()));
    parameters
}

/// Hashes `key=value` pairs as Creem does: joined with `|`, then `|salt=<API key>`.
fn signature_of<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, api_key: &str) -> String {
    let mut parts: Vec<String> = pairs
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    parts.push(format!("salt={api_key}"));
    hex::encode(Sha256::digest(parts.join("|").as_bytes()))
}

/// Appends Creem's parameters (in signing order) and `signature` to the success URL.
pub(crate) fn signed_redirect(
    base: &str,
    checkout: &Checkout,
    api_key: &str,
    signing: CreemRedirectSigning,
) -> String {
    let Ok(mut url) = url::Url::parse(base) else {
        return base.to_owned();
    };
    let added = creem_parameters(checkout);
    {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in &added {
            pairs.append_pair(key, value);
        }
    }
    let signature = match signing {
        CreemRedirectSigning::CreemParameters => signature_of(
            added.iter().map(|(key, value)| (*key, value.as_str())),
            api_key,
        ),
        CreemRedirectSigning::AllParameters => {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(key, _)| key != "signature")
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
            signature_of(
                pairs
                    .iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
                api_key,
            )
        }
    };
    url.query_pairs_mut().append_pair("signature", &signature);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::CheckoutStatus;
    use crate::gateways::creem::objects::Payment;

    fn paid_checkout() -> Checkout {
        Checkout {
            id: "ch_1".into(),
            product_id: "prod_1".into(),
            units: 1,
            request_id: Some("r1".into()),
            status: CheckoutStatus::Complete,
            success_url: None,
            metadata: None,
            customer_email: None,
            customer_id: None,
            expires_at: 0,
            payment: Some(Payment {
                order_id: "ord_1".into(),
                transaction_id: "tran_1".into(),
                customer_id: "cust_1".into(),
                subscription_id: None,
                paid_at: 0,
            }),
            discount_id: None,
        }
    }

    // Both vectors were computed once outside Rust:
    // python3 -c 'import hashlib; print(hashlib.sha256(b"request_id=r1|checkout_id=ch_1|order_id=ord_1|customer_id=cust_1|product_id=prod_1|salt=creem_test_k").hexdigest())'
    const CREEM_FORM: &str = "4d125436647bdc842025240478d31acdbd01f95a3ede1c51072d8bedc431484a";
    // python3 -c 'import hashlib; print(hashlib.sha256(b"ref=a b|request_id=r1|checkout_id=ch_1|order_id=ord_1|customer_id=cust_1|product_id=prod_1|salt=creem_test_k").hexdigest())'
    const ALL_FORM: &str = "f9c846fff357cd4f5755c37eae22717c29ffde1f0644e5485d342abe34c7f087";

    #[test]
    fn signs_creems_own_parameters_in_fixed_order() {
        let url = signed_redirect(
            "https://shop.test/done?ref=a%20b&empty=",
            &paid_checkout(),
            "creem_test_k",
            CreemRedirectSigning::CreemParameters,
        );
        assert_eq!(
            url,
            format!(
                "https://shop.test/done?ref=a%20b&empty=&request_id=r1&checkout_id=ch_1\
                 &order_id=ord_1&customer_id=cust_1&product_id=prod_1&signature={CREEM_FORM}"
            )
        );
    }

    #[test]
    fn signs_every_parameter_in_url_order_when_asked() {
        let url = signed_redirect(
            "https://shop.test/done?ref=a%20b&empty=",
            &paid_checkout(),
            "creem_test_k",
            CreemRedirectSigning::AllParameters,
        );
        assert!(url.ends_with(&format!("&signature={ALL_FORM}")), "{url}");
    }
}
