//! The entitlement query: a user's subscriptions and purchases, each decided by the policy.

use std::cmp::Ordering;

use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::grant::{Entitlement, Grant, GrantSource};
use super::policy::EntitlementPolicy;
use crate::billing::records::{checkouts_of_user, refunds_of_checkout, subscriptions_of_user};

/// Orders grants: access first; among those the longest-lasting first (no end before any
/// end); among the rest the most recently ended first.
fn grant_order(a: &Grant, b: &Grant) -> Ordering {
    b.access
        .cmp(&a.access)
        .then_with(|| match (a.until, b.until) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) if a.access => Ordering::Less,
            (Some(_), None) if a.access => Ordering::Greater,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a_until), Some(b_until)) => b_until.cmp(&a_until),
        })
}

/// Decides everything `app_user_id` has, at `now`.
pub(crate) async fn entitlement(
    connection: &mut AnyConnection,
    policy: &EntitlementPolicy,
    app_user_id: &str,
    now: OffsetDateTime,
) -> Result<Entitlement, sqlx::Error> {
    let mut grants = Vec::new();
    for record in subscriptions_of_user(connection, app_user_id).await? {
        let decided = policy.decide_subscription(&record, now);
        grants.push(Grant {
            plan: policy.subscription_plan(&record),
            access: decided.access,
            until: decided.until,
            reason: decided.reason,
            source: GrantSource::Subscription {
                gateway: record.gateway,
                subscription_id: record.subscription_id,
            },
        });
    }
    for record in checkouts_of_user(connection, app_user_id).await? {
        let Some(plan) = policy.purchase_plan(&record) else {
            continue;
        };
        let refunds = refunds_of_checkout(connection, &record).await?;
        let decided = policy.decide_purchase(&record, &refunds);
        grants.push(Grant {
            plan: Some(plan),
            access: decided.access,
            until: decided.until,
            reason: decided.reason,
            source: GrantSource::Purchase {
                gateway: record.gateway,
                checkout_id: record.checkout_id,
            },
        });
    }
    grants.sort_by(grant_order);
    Ok(Entitlement {
        app_user_id: app_user_id.to_owned(),
        checked_at: now,
        grants,
    })
}
