//! The organisation tree: kinds and the materialized path used for subtree queries.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrgKind {
    Platform,
    Mno,
    ServiceProvider,
    Reseller,
    Enterprise,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        OrgKind::Platform,
        OrgKind::Mno,
        OrgKind::ServiceProvider,
        OrgKind::Reseller,
        OrgKind::Enterprise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Platform => "PLATFORM",
            OrgKind::Mno => "MNO",
            OrgKind::ServiceProvider => "SERVICE_PROVIDER",
            OrgKind::Reseller => "RESELLER",
            OrgKind::Enterprise => "ENTERPRISE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// emnify organisation type id.
    pub fn type_id(self) -> i64 {
        match self {
            OrgKind::Platform => 0,
            OrgKind::Mno => 1,
            OrgKind::ServiceProvider => 2,
            OrgKind::Reseller => 3,
            OrgKind::Enterprise => 4,
        }
    }

    /// A TelecomX "reseller": an org that sells on to customers of its own.
    pub fn is_reseller(self) -> bool {
        matches!(
            self,
            OrgKind::Mno | OrgKind::ServiceProvider | OrgKind::Reseller
        )
    }

    /// Which kinds may be created under an org of this kind. There is one PLATFORM (the root);
    /// customers (ENTERPRISE) are leaves.
    pub fn may_parent(self, child: OrgKind) -> bool {
        child != OrgKind::Platform && (self == OrgKind::Platform || self.is_reseller())
    }
}

impl TryFrom<String> for OrgKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OrgKind::parse(&s).ok_or_else(|| format!("unknown organisation kind {s:?}"))
    }
}

/// Materialized ancestry: `/1/7/42/` for org 42 under 7 under 1.
pub fn child_path(parent_path: &str, id: i64) -> String {
    format!("{parent_path}{id}/")
}

/// The half-open range `[lo, hi)` of paths in the subtree rooted at `path` (itself included).
/// Paths hold only digits and '/', and '0' is the byte after '/', so the range is exact and
/// both backends answer it from a plain B-tree index.
pub fn subtree_range(path: &str) -> (String, String) {
    let mut hi = path.trim_end_matches('/').to_string();
    hi.push('0');
    (path.to_string(), hi)
}

pub fn path_in_subtree(path: &str, root: &str) -> bool {
    path.starts_with(root)
}

/// The tenant of the org at `path`: its top-level org, the child of the root it lies under (itself at
/// the top level); `None` for the root. SIMs carry the tenant their orgs share (see the store).
pub fn tenant_of_path(path: &str) -> Option<i64> {
    path_ids(path).get(1).copied()
}

/// The distribution key of central stock, of the platform's own rows and of system actions.
pub const CENTRAL_TENANT: i64 = 1;
/// The distribution key of SIMs whose orgs lie under different top-level orgs.
pub const SHARED_TENANT: i64 = 0;

/// The tenant key of a SIM, from the tenants of its orgs (issuer, reseller, customer, storage; `None`
/// for an absent org or the platform): the one tenant they share, [`CENTRAL_TENANT`] when none is
/// below the platform, [`SHARED_TENANT`] when they differ.
pub fn sim_tenant(org_tenants: impl IntoIterator<Item = Option<i64>>) -> i64 {
    let mut tenants = org_tenants.into_iter().flatten();
    let Some(first) = tenants.next() else {
        return CENTRAL_TENANT;
    };
    if tenants.all(|t| t == first) {
        first
    } else {
        SHARED_TENANT
    }
}

/// Whether the org at `path` lies in the same tenant as the org at `holder_path`. A SIM in use
/// (on an MVNO account, in a device) may change hands only within its holder's tenant: otherwise
/// another tenant could act on (suspend, delete) a subscriber that is not its own.
pub fn same_tenant(path: &str, holder_path: &str) -> bool {
    tenant_of_path(path) == tenant_of_path(holder_path)
}

/// Org ids along a path, root first.
pub fn path_ids(path: &str) -> Vec<i64> {
    path.split('/').filter_map(|p| p.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sims_tenant_is_the_one_its_orgs_share() {
        assert_eq!(sim_tenant([None, None, None, None]), CENTRAL_TENANT);
        assert_eq!(sim_tenant([None, Some(7), None, Some(7)]), 7);
        assert_eq!(sim_tenant([Some(7), None, Some(9), None]), SHARED_TENANT);
        assert_eq!(sim_tenant([Some(9)]), 9);
    }

    #[test]
    fn tenant_is_the_top_level_org() {
        assert_eq!(tenant_of_path("/1/"), None);
        assert_eq!(tenant_of_path("/1/7/"), Some(7));
        assert_eq!(tenant_of_path("/1/7/42/"), Some(7));
        assert_eq!(tenant_of_path("/1/70/9/3/"), Some(70));
        assert!(same_tenant("/1/7/42/", "/1/7/"));
        assert!(!same_tenant("/1/8/", "/1/7/42/"));
        assert!(!same_tenant("/1/", "/1/7/42/"));
    }

    #[test]
    fn subtree_range_covers_descendants_only() {
        let (lo, hi) = subtree_range("/1/7/");
        let inside = ["/1/7/", "/1/7/42/", "/1/7/9/3/"];
        let outside = ["/1/70/", "/1/8/", "/1/", "/1/6/", "/1/700/1/"];
        for p in inside {
            assert!(p >= lo.as_str() && p < hi.as_str(), "{p} should be inside");
            assert!(path_in_subtree(p, "/1/7/"));
        }
        for p in outside {
            assert!(
                !(p >= lo.as_str() && p < hi.as_str()),
                "{p} should be outside"
            );
            assert!(!path_in_subtree(p, "/1/7/"));
        }
    }

    #[test]
    fn kinds_round_trip_and_parent_rules() {
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(OrgKind::parse("enterprise"), Some(OrgKind::Enterprise));
        assert!(OrgKind::Platform.may_parent(OrgKind::Reseller));
        assert!(OrgKind::Reseller.may_parent(OrgKind::Reseller));
        assert!(OrgKind::Reseller.may_parent(OrgKind::Enterprise));
        assert!(!OrgKind::Enterprise.may_parent(OrgKind::Enterprise));
        assert!(!OrgKind::Platform.may_parent(OrgKind::Platform));
        assert_eq!(child_path("/1/", 7), "/1/7/");
        assert_eq!(path_ids("/1/7/42/"), vec![1, 7, 42]);
    }
}
