//! The one SQL scope filter: what of a table a caller's [`Scope`] lets it see, appended to a query as
//! conditions. Lists, single reads and writes all narrow with it, so a row outside the scope is not
//! found — the same predicate for the read that shows an object and the write that changes it.
use super::db::Builder;
use super::{EmnifySim, StorageFilter};
use crate::domain::access::Scope;
use crate::domain::org::{path_ids, subtree_range};

/// How the rows of a table belong to orgs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    /// One owning org: its id column and the column holding its path (joined).
    Org {
        id: &'static str,
        path: &'static str,
    },
    /// A SIM (`sims s`): visible through its issuer, reseller or customer org. `narrowed`: the query
    /// is already one tenant's range, walked in sort order; the org conditions then only filter (`+col`
    /// keeps SQLite from reading the three org indexes and sorting what they find instead).
    Sim { narrowed: bool },
    /// A TelecomX SIM read with `SIM_SELECT` (`so` its storage org; `m` its MVNO account, `ao` the
    /// account's customer): seen through the account's customer while on an account, else through
    /// its holder; central stock by the whole platform only.
    Stock,
    /// Something an org issued (a SIM batch): seen from inside the issuer's subtree, that is when the
    /// caller's org or one of its ancestors issued it.
    Issuer { id: &'static str },
}

const SIM_ORGS: [&str; 3] = ["s.issuer_org_id", "s.reseller_org_id", "s.customer_org_id"];

/// Appends ` AND <the scope's condition>` (nothing for the whole platform).
pub(crate) fn push_scope(qb: &mut Builder<'_>, scope: &Scope, owner: Owner) {
    match (scope, owner) {
        (Scope::All, _) => {}
        (Scope::Org { org_id, .. }, Owner::Org { id, .. }) => {
            qb.push(format_args!(" AND {id} = ")).push_bind(*org_id);
        }
        (Scope::Subtree { path: p, .. }, Owner::Org { path, .. }) => {
            let (lo, hi) = subtree_range(p);
            qb.push(format_args!(" AND {path} >= ")).push_bind(lo);
            qb.push(format_args!(" AND {path} < ")).push_bind(hi);
        }
        (Scope::Org { org_id, .. }, Owner::Sim { .. }) => {
            for (i, col) in SIM_ORGS.iter().enumerate() {
                qb.push(if i == 0 { " AND (" } else { " OR " });
                qb.push(format_args!("{col} = ")).push_bind(*org_id);
            }
            qb.push(")");
        }
        (Scope::Subtree { path, .. }, Owner::Sim { narrowed }) => {
            let (lo, hi) = subtree_range(path);
            for (i, col) in SIM_ORGS.iter().enumerate() {
                qb.push(if i == 0 { " AND (" } else { " OR " });
                if narrowed {
                    qb.push("+");
                }
                qb.push(format_args!(
                    "{col} IN (SELECT id FROM organisations WHERE path >= "
                ))
                .push_bind(lo.clone())
                .push(" AND path < ")
                .push_bind(hi.clone())
                .push(")");
            }
            qb.push(")");
        }
        (Scope::Org { org_id, .. }, Owner::Stock) => {
            qb.push(" AND COALESCE(m.customer_org_id, s.in_storage_at) = ")
                .push_bind(*org_id);
        }
        (Scope::Subtree { path, .. }, Owner::Stock) => {
            let (lo, hi) = subtree_range(path);
            qb.push(" AND COALESCE(ao.path, so.path) >= ").push_bind(lo);
            qb.push(" AND COALESCE(ao.path, so.path) < ").push_bind(hi);
        }
        (Scope::Org { path, .. } | Scope::Subtree { path, .. }, Owner::Issuer { id }) => {
            qb.push(format_args!(" AND {id} IN "))
                .push_list(path_ids(path));
        }
    }
}

/// [`Owner::Sim`] in memory, for the single-SIM read: its rows are fetched in batches that serve
/// many callers at once (see `point_reads.rs`), so the scope cannot be part of their query.
pub(crate) fn holds_sim(scope: &Scope, sim: &EmnifySim) -> bool {
    let orgs = [
        (sim.issuer_org_id, &sim.issuer_path),
        (sim.reseller_org_id, &sim.reseller_path),
        (sim.customer_org_id, &sim.customer_path),
    ];
    orgs.iter().any(|(id, path)| match (id, path) {
        (Some(id), Some(path)) => scope.contains(*id, path),
        _ => false,
    }) || *scope == Scope::All
}

/// Appends the condition on the column holding a SIM's storage org (a filter the caller chose, already
/// narrowed to its scope by the service).
pub(crate) fn push_storage(qb: &mut Builder<'_>, storage: &StorageFilter, col: &str) {
    match storage {
        StorageFilter::Any => {}
        StorageFilter::Central => {
            qb.push(format_args!(" AND {col} IS NULL"));
        }
        StorageFilter::Org(id) => {
            qb.push(format_args!(" AND {col} = ")).push_bind(*id);
        }
        StorageFilter::Subtree(path) => {
            let (lo, hi) = subtree_range(path);
            qb.push(format_args!(
                " AND {col} IN (SELECT id FROM organisations WHERE path >= "
            ))
            .push_bind(lo)
            .push(" AND path < ")
            .push_bind(hi)
            .push(")");
        }
    }
}
