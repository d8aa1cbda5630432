//! Access levels and scope: the one place that decides who may do what, and over which orgs.
use super::error::DomainError;
use super::org::{path_in_subtree, OrgKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessLevel {
    NoLogin,
    Personal,
    Viewer,
    Manager,
    Owner,
    Reseller,
    ResellerAdmin,
    Admin,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 8] = [
        AccessLevel::NoLogin,
        AccessLevel::Personal,
        AccessLevel::Viewer,
        AccessLevel::Manager,
        AccessLevel::Owner,
        AccessLevel::Reseller,
        AccessLevel::ResellerAdmin,
        AccessLevel::Admin,
    ];
    /// VIEWER, MANAGER, OWNER: their own org only.
    pub const CUSTOMER: &'static [AccessLevel] = &[
        AccessLevel::Viewer,
        AccessLevel::Manager,
        AccessLevel::Owner,
    ];
    /// RESELLER, RESELLER_ADMIN: their org's subtree.
    pub const RESELLER: &'static [AccessLevel] =
        &[AccessLevel::Reseller, AccessLevel::ResellerAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::NoLogin => "NO_LOGIN",
            AccessLevel::Personal => "PERSONAL",
            AccessLevel::Viewer => "VIEWER",
            AccessLevel::Manager => "MANAGER",
            AccessLevel::Owner => "OWNER",
            AccessLevel::Reseller => "RESELLER",
            AccessLevel::ResellerAdmin => "RESELLER_ADMIN",
            AccessLevel::Admin => "ADMIN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
    }

    /// ADMIN exists only in the PLATFORM org; RESELLER and RESELLER_ADMIN only in reseller-kind orgs.
    pub fn allowed_in(self, kind: OrgKind) -> bool {
        match self {
            AccessLevel::Admin => kind == OrgKind::Platform,
            AccessLevel::Reseller | AccessLevel::ResellerAdmin => kind.is_reseller(),
            _ => true,
        }
    }

    pub fn can_login(self) -> bool {
        self != AccessLevel::NoLogin
    }
}

impl TryFrom<String> for AccessLevel {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AccessLevel::parse(&s).ok_or_else(|| format!("unknown access level {s:?}"))
    }
}

/// The set of organisations a principal can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// ADMIN: everything.
    All,
    /// Reseller levels: the org and every descendant (by materialized path).
    Subtree { org_id: i64, path: String },
    /// Customer levels: the org itself (`path`: where it sits, for what its ancestors issued).
    Org { org_id: i64, path: String },
}

impl Scope {
    pub fn contains(&self, org_id: i64, org_path: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Subtree { path, .. } => path_in_subtree(org_path, path),
            Scope::Org { org_id: own, .. } => *own == org_id,
        }
    }
}

/// Who is calling: the authenticated user, its org and how it authenticated.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub user_oid: String,
    pub email: String,
    pub name: String,
    pub level: AccessLevel,
    pub org_id: i64,
    pub org_oid: String,
    pub org_kind: OrgKind,
    pub org_path: String,
    /// The opaque token or the application token behind a JWT, if any.
    pub token_id: Option<i64>,
    pub request_id: Option<String>,
}

impl Principal {
    pub fn scope(&self) -> Scope {
        match self.level {
            AccessLevel::Admin => Scope::All,
            AccessLevel::Reseller | AccessLevel::ResellerAdmin => Scope::Subtree {
                org_id: self.org_id,
                path: self.org_path.clone(),
            },
            _ => Scope::Org {
                org_id: self.org_id,
                path: self.org_path.clone(),
            },
        }
    }

    /// 403 `access_denied` unless the caller's level is one of `levels`.
    pub fn require(&self, levels: &[AccessLevel]) -> Result<(), DomainError> {
        if levels.contains(&self.level) {
            Ok(())
        } else {
            Err(DomainError::Denied)
        }
    }

    pub fn sees_org(&self, org_id: i64, org_path: &str) -> bool {
        self.scope().contains(org_id, org_path)
    }

    /// TelecomX visibility of a SIM: an unused SIM is seen by who can see its holder (central stock:
    /// ADMIN only); a SIM on an MVNO account by who can see the account's customer.
    pub fn sees_sim(&self, holder: Option<&str>, account: Option<&str>) -> bool {
        let sees_path = |path: &str| {
            super::org::path_ids(path)
                .last()
                .is_some_and(|id| self.sees_org(*id, path))
        };
        match (account, holder) {
            (Some(account_path), _) => sees_path(account_path),
            (None, Some(holder_path)) => sees_path(holder_path),
            (None, None) => self.level == AccessLevel::Admin,
        }
    }

    /// May the caller manage (set the password, level or state of, issue or revoke tokens for) the
    /// user `target_user_id` at `level` in the org at `org_path`? Oneself, yes; anyone else must be
    /// in scope and strictly below the caller's level — or, at the caller's level at most, in an
    /// org below the caller's own (a parent reseller's admin manages its sub-resellers' admins) —
    /// so peers of one org cannot lock each other out. ADMIN, who has no one above, manages other
    /// ADMINs.
    pub fn may_manage(
        &self,
        target_user_id: i64,
        target_org_id: i64,
        target_org_path: &str,
        level: AccessLevel,
    ) -> bool {
        let below_in_tree = target_org_id != self.org_id && level <= self.level;
        target_user_id == self.user_id
            || (self.sees_org(target_org_id, target_org_path)
                && (level < self.level || below_in_tree || self.level == AccessLevel::Admin))
    }

    /// Whether an org may be named to the caller: it is in the caller's scope, or it is one of the
    /// caller's own ancestors (the platform, its reseller), which the caller knows anyway.
    pub fn knows_org(&self, org_id: i64, org_path: &str) -> bool {
        self.sees_org(org_id, org_path) || super::org::path_ids(&self.org_path).contains(&org_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(level: AccessLevel, org_id: i64, path: &str) -> Principal {
        Principal {
            user_id: 1,
            user_oid: "0".repeat(24),
            email: "u@example.com".into(),
            name: "u".into(),
            level,
            org_id,
            org_oid: "1".repeat(24),
            org_kind: OrgKind::Reseller,
            org_path: path.into(),
            token_id: None,
            request_id: None,
        }
    }

    #[test]
    fn levels_are_ordered() {
        let mut sorted = AccessLevel::ALL;
        sorted.sort();
        assert_eq!(sorted, AccessLevel::ALL);
        assert!(AccessLevel::ResellerAdmin > AccessLevel::Reseller);
        assert!(AccessLevel::Owner < AccessLevel::Reseller);
    }

    #[test]
    fn levels_are_tied_to_org_kinds() {
        assert!(AccessLevel::Admin.allowed_in(OrgKind::Platform));
        assert!(!AccessLevel::Admin.allowed_in(OrgKind::Reseller));
        assert!(AccessLevel::ResellerAdmin.allowed_in(OrgKind::Mno));
        assert!(AccessLevel::Reseller.allowed_in(OrgKind::ServiceProvider));
        assert!(!AccessLevel::Reseller.allowed_in(OrgKind::Enterprise));
        assert!(!AccessLevel::ResellerAdmin.allowed_in(OrgKind::Platform));
        assert!(AccessLevel::Owner.allowed_in(OrgKind::Enterprise));
    }

    #[test]
    fn scope_follows_level() {
        assert_eq!(principal(AccessLevel::Admin, 1, "/1/").scope(), Scope::All);
        let reseller = principal(AccessLevel::ResellerAdmin, 7, "/1/7/");
        assert!(reseller.sees_org(42, "/1/7/42/"));
        assert!(reseller.sees_org(7, "/1/7/"));
        assert!(!reseller.sees_org(70, "/1/70/"));
        assert!(!reseller.sees_org(1, "/1/"));
        let owner = principal(AccessLevel::Owner, 42, "/1/7/42/");
        assert!(owner.sees_org(42, "/1/7/42/"));
        assert!(!owner.sees_org(43, "/1/7/42/43/"));
    }

    #[test]
    fn require_refuses_levels_not_listed() {
        let p = principal(AccessLevel::Reseller, 7, "/1/7/");
        assert!(p
            .require(&[AccessLevel::ResellerAdmin, AccessLevel::Admin])
            .is_err());
        assert!(p.require(AccessLevel::RESELLER).is_ok());
    }

    #[test]
    fn sim_visibility_follows_holder_or_account() {
        let reseller = principal(AccessLevel::ResellerAdmin, 7, "/1/7/");
        assert!(reseller.sees_sim(Some("/1/7/42/"), None));
        assert!(!reseller.sees_sim(Some("/1/8/"), None));
        assert!(
            !reseller.sees_sim(None, None),
            "central stock is the platform's"
        );
        assert!(reseller.sees_sim(None, Some("/1/7/42/")));
        assert!(
            !reseller.sees_sim(Some("/1/7/"), Some("/1/8/43/")),
            "the account decides for a SIM in use"
        );
        assert!(principal(AccessLevel::Admin, 1, "/1/").sees_sim(None, None));
        let owner = principal(AccessLevel::Owner, 42, "/1/7/42/");
        assert!(owner.sees_sim(Some("/1/7/42/"), None));
        assert!(!owner.sees_sim(Some("/1/7/"), None));
    }

    #[test]
    fn nobody_acts_for_a_higher_level() {
        let manager = principal(AccessLevel::Manager, 42, "/1/7/42/");
        assert!(manager.may_manage(5, 42, "/1/7/42/", AccessLevel::Viewer));
        assert!(
            !manager.may_manage(5, 42, "/1/7/42/", AccessLevel::Manager),
            "a peer"
        );
        assert!(
            manager.may_manage(manager.user_id, 42, "/1/7/42/", AccessLevel::Manager),
            "oneself"
        );
        assert!(!manager.may_manage(5, 42, "/1/7/42/", AccessLevel::Owner));
        assert!(!manager.may_manage(5, 43, "/1/7/43/", AccessLevel::Viewer));
        let ra = principal(AccessLevel::ResellerAdmin, 7, "/1/7/");
        assert!(
            !ra.may_manage(5, 7, "/1/7/", AccessLevel::ResellerAdmin),
            "a peer"
        );
        assert!(ra.may_manage(5, 7, "/1/7/", AccessLevel::Reseller));
        assert!(
            ra.may_manage(5, 9, "/1/7/9/", AccessLevel::ResellerAdmin),
            "a sub-reseller's admin"
        );
        assert!(
            !ra.may_manage(5, 8, "/1/8/", AccessLevel::Reseller),
            "out of scope"
        );
        let admin = principal(AccessLevel::Admin, 1, "/1/");
        assert!(admin.may_manage(5, 1, "/1/", AccessLevel::Admin));
        // Orgs a caller may be told of: its scope and its own ancestors.
        assert!(manager.knows_org(7, "/1/7/") && manager.knows_org(1, "/1/"));
        assert!(!manager.knows_org(8, "/1/8/") && !manager.knows_org(43, "/1/7/43/"));
    }
}
