//! `endpoint_counts`: the live endpoints counted by tenant, org, status, profiles and tags, so that the
//! endpoint list's total is a SUM over a few thousand rows instead of a COUNT over every device.
//!
//! Kept as `sim_owner_counts` is (owners.rs): in the transaction of every write that changes one of
//! those columns, after the endpoint's lock and its SIM's counters (lock order step 4), the old key
//! down by one and the new one up, in key order. `tests/it/common.rs::assert_counters_match` checks
//! them against the rows.
use super::db::{query, Tx};
use super::{EndpointCol, EndpointCond, StoreResult};
use std::collections::BTreeMap;

/// (tenant, org, status, service profile, tariff profile, tags; '' for none).
pub(crate) type Key = (i64, i64, i32, i64, i64, String);

/// An endpoint's key; none for a deleted one (status 2), which no list counts.
pub(crate) fn key(
    tenant: i64,
    org: i64,
    status: i32,
    service: i64,
    tariff: i64,
    tags: Option<&str>,
) -> Option<Key> {
    (status != 2).then(|| {
        (
            tenant,
            org,
            status,
            service,
            tariff,
            tags.unwrap_or_default().to_owned(),
        )
    })
}

/// Moves an endpoint from one key to another (either absent for a create or a delete).
pub(crate) async fn moved(tx: &mut Tx, before: Option<Key>, after: Option<Key>) -> StoreResult<()> {
    if before == after {
        return Ok(());
    }
    let mut deltas: BTreeMap<Key, i64> = BTreeMap::new();
    if let Some(k) = before {
        *deltas.entry(k).or_default() -= 1;
    }
    if let Some(k) = after {
        *deltas.entry(k).or_default() += 1;
    }
    for ((tenant, org, status, service, tariff, tags), delta) in deltas {
        query(
            "INSERT INTO endpoint_counts (tenant_org_id, org_id, status, service_profile_id, \
             tariff_profile_id, tags, count) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_org_id, org_id, status, service_profile_id, tariff_profile_id, tags) \
             DO UPDATE SET count = endpoint_counts.count + excluded.count",
        )
        .bind(tenant)
        .bind(org)
        .bind(status)
        .bind(service)
        .bind(tariff)
        .bind(tags)
        .bind(delta)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Whether the counters can answer this condition of a list: its column is part of their key. Empty
/// tags are '' in the counters and NULL in the rows, so a condition an empty text would match goes to
/// the rows.
pub(crate) fn countable(cond: &EndpointCond) -> bool {
    match cond {
        EndpointCond::In(col, _) => matches!(
            col,
            EndpointCol::Status | EndpointCol::ServiceProfile | EndpointCol::TariffProfile
        ),
        EndpointCond::Contains(EndpointCol::Tags, v) | EndpointCond::Text(EndpointCol::Tags, v) => {
            !v.is_empty()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_endpoint_has_no_key_and_no_tags_are_empty_text() {
        assert_eq!(key(1, 2, 2, 1, 1, Some("a")), None);
        assert_eq!(
            key(1, 2, 0, 3, 4, None),
            Some((1, 2, 0, 3, 4, String::new()))
        );
    }

    #[test]
    fn only_key_columns_are_countable() {
        assert!(countable(&EndpointCond::In(EndpointCol::Status, vec![0])));
        assert!(countable(&EndpointCond::In(
            EndpointCol::TariffProfile,
            vec![1]
        )));
        assert!(!countable(&EndpointCond::In(EndpointCol::Id, vec![1])));
        assert!(!countable(&EndpointCond::In(
            EndpointCol::SimStatus,
            vec![1]
        )));
        assert!(countable(&EndpointCond::Contains(
            EndpointCol::Tags,
            "x".into()
        )));
        assert!(!countable(&EndpointCond::Contains(
            EndpointCol::Tags,
            String::new()
        )));
        assert!(!countable(&EndpointCond::Contains(
            EndpointCol::Name,
            "x".into()
        )));
    }
}
