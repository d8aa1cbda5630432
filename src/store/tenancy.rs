//! How list pages are read: the tenant key that narrows a reseller's lists to its own SIMs, and the
//! choice between walking the sort order and reading what the filters match first.
//!
//! Both exist because the planner assumes matching rows are spread evenly through the sort order, while
//! imports and batches put a reseller's SIMs (and a batch's statuses) side by side: walking the ICC index
//! for 100 `status:1` SIMs read 1M rows at 1M SIMs. The exact row count we compute for the page's total
//! anyway decides instead: few matches are read through the filters' indexes and sorted (bounded by the
//! count), many are found quickly in sort order.
use super::db::{query, Builder};
use super::{SqlStore, StoreResult};

/// Whether any SIM's orgs lie under two top-level orgs. While none does, a reseller sees only SIMs of
/// its own tenant, and its lists can be read as one range of the tenant indexes.
pub(crate) const SHARED_SIMS_EXIST: &str =
    "SELECT EXISTS (SELECT 1 FROM sims WHERE tenant_org_id = $1)";

/// Up to this many matching rows, a page is read through the filters' indexes and sorted: at most
/// ~10 ms at this size on the benchmark machine, whatever the order of the rows on disk.
pub(crate) const FILTER_FIRST_MAX: i64 = 20_000;

/// How a list page is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageRead {
    /// In sort order through an index, stopping after the page.
    Walk,
    /// The matching rows through the filters' indexes, then sorted.
    FilterFirst,
}

impl PageRead {
    /// `exact_walk`: every row of the walked range matches (no filter beyond the scope's range), so a
    /// walk reads just the page; otherwise the exact `total` decides.
    pub(crate) fn choose(exact_walk: bool, total: i64) -> PageRead {
        if !exact_walk && total <= FILTER_FIRST_MAX {
            PageRead::FilterFirst
        } else {
            PageRead::Walk
        }
    }

    /// An ORDER BY term for column `col` (`text`: a text or date column): the column itself for a walk;
    /// for filter-first the same values through an expression no index provides, so that the planner
    /// cannot walk an index in that order (`|| ''` keeps text and dates in their order, `+ 0` numbers;
    /// both keep NULL, so NULLs sort where they did).
    pub(crate) fn order_term(self, col: &str, text: bool) -> String {
        match (self, text) {
            (PageRead::Walk, _) => col.to_string(),
            (PageRead::FilterFirst, true) => format!("({col} || '')"),
            (PageRead::FilterFirst, false) => format!("({col} + 0)"),
        }
    }

    /// The first ORDER BY term of a walk narrowed to a tenant: the tenant itself (in the direction of the
    /// first sort key), so that the walk is one range of a tenant index (see [`push_tenant`]).
    pub(crate) fn tenant_first(self, tenant: Option<i64>, desc: bool) -> &'static str {
        match (self, tenant, desc) {
            (PageRead::Walk, Some(_), false) => "s.tenant_org_id ASC, ",
            (PageRead::Walk, Some(_), true) => "s.tenant_org_id DESC, ",
            _ => "",
        }
    }
}

/// Splits a `SELECT ... FROM sims s <joins>` so that a list page is found in `sims` alone: the caller
/// writes `{head}FROM (SELECT s.* FROM sims s ... LIMIT n) s{tail}`, and only the page's rows are joined
/// (joining all 9,900 matches of a filter before sorting them cost 35 ms).
pub(crate) fn page_select(select: &str) -> (&str, &str) {
    let (head, tail) = select
        .split_once("FROM sims s")
        .expect("a SIM select reads `sims s`");
    (head, tail)
}

/// Narrows a query on `sims s` to one tenant. For a walk (`walk` true) a range, not `=`: with `=`
/// Postgres treats the tenant as a constant, drops it from an `ORDER BY s.tenant_org_id, ...` and is free
/// to walk any index in the order of the rest (and picks the primary key, filtering); as a range, only the
/// tenant indexes give that order. Otherwise `=`, which lets (tenant_org_id, status, id) find a
/// tenant's SIMs of one status. On Citus always `=`: only an equality names the one shard that holds
/// the tenant (on a shard, a tenant is a large part of the rows, and the walk stays cheap).
pub(crate) fn push_tenant(qb: &mut Builder<'_>, tenant: Option<i64>, walk: bool) {
    if let Some(t) = tenant {
        if walk {
            qb.push(" AND s.tenant_org_id >= ")
                .push_bind(t)
                .push(" AND s.tenant_org_id <= ")
                .push_bind(t);
        } else {
            qb.push(" AND s.tenant_org_id = ").push_bind(t);
        }
    }
}

impl SqlStore {
    /// The tenant a subtree principal's lists can be narrowed to: its top-level org, unless some SIM is
    /// shared between tenants (then lists fall back to the org conditions alone).
    pub(crate) async fn list_tenant(&self, subtree_path: Option<&str>) -> StoreResult<Option<i64>> {
        let Some(tenant) = subtree_path.and_then(crate::domain::org::tenant_of_path) else {
            return Ok(None);
        };
        let shared: bool = query(SHARED_SIMS_EXIST)
            .bind(super::keys::SHARED)
            .scalar(&self.reads)
            .await?;
        Ok((!shared).then_some(tenant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_matches_are_read_first_unless_the_walk_is_exact() {
        assert_eq!(PageRead::choose(false, 0), PageRead::FilterFirst);
        assert_eq!(
            PageRead::choose(false, FILTER_FIRST_MAX),
            PageRead::FilterFirst
        );
        assert_eq!(
            PageRead::choose(false, FILTER_FIRST_MAX + 1),
            PageRead::Walk
        );
        assert_eq!(PageRead::choose(true, 5), PageRead::Walk);
    }

    #[test]
    fn filter_first_terms_hide_the_column_from_indexes() {
        assert_eq!(PageRead::Walk.order_term("s.iccid", true), "s.iccid");
        assert_eq!(
            PageRead::FilterFirst.order_term("s.iccid", true),
            "(s.iccid || '')"
        );
        assert_eq!(
            PageRead::FilterFirst.order_term("s.id", false),
            "(s.id + 0)"
        );
        assert_eq!(
            PageRead::Walk.tenant_first(Some(2), true),
            "s.tenant_org_id DESC, "
        );
        assert_eq!(PageRead::Walk.tenant_first(None, false), "");
        assert_eq!(PageRead::FilterFirst.tenant_first(Some(2), false), "");
    }
}
