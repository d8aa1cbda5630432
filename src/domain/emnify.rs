//! emnify's view of SIMs: ICC forms, the status machine, who may change what, and the `q` / `sort`
//! / paging conventions of its collections.
use super::access::{AccessLevel, Principal};
use super::error::{DomainError, Invalid, Rule};
use super::org::{path_ids, OrgKind};
use super::sim::SimStatus;

/// emnify's `iccid` (19 digits, no Luhn digit) and `iccid_with_luhn` for a stored ICC.
pub fn iccid_forms(stored: &str) -> (String, String) {
    let digits = stored.trim_end_matches(['F', 'f']);
    let base = if digits.len() == 20 && luhn::valid(digits) {
        &digits[..19]
    } else {
        digits
    };
    let mut with = base.to_string();
    with.push(luhn::checksum(base.as_bytes()) as char);
    (base.to_string(), with)
}

/// The stored (canonical) ICC an emnify `q` value stands for: `iccid` is the body, `iccid_with_luhn`
/// the body and its check digit; anything that is no ICC matches itself (and so nothing).
pub fn stored_for_iccid(value: &str, with_luhn: bool) -> String {
    let body = if with_luhn && value.len() > 1 {
        &value[..value.len() - 1]
    } else {
        value
    };
    super::sim::parse_iccid(body).unwrap_or_else(|_| body.to_string())
}

/// Allowed PATCH transitions: 0→1, 0→4, 4→1, 1→2, 2→1. The same status is no change (None).
pub fn transition(from: SimStatus, to: SimStatus) -> Result<Option<SimStatus>, Rule> {
    use SimStatus::*;
    if from == to {
        return Ok(None);
    }
    match (from, to) {
        (Issued, Activated)
        | (Issued, FactoryTest)
        | (FactoryTest, Activated)
        | (Activated, Suspended)
        | (Suspended, Activated) => Ok(Some(to)),
        _ => Err(Rule::Transition { from, to }),
    }
}

/// A transition of a SIM in an endpoint: also 0→2 and 4→2, as the emnify SDK suspends every SIM of
/// a device it disables or releases (spec/emnify-endpoints.md §1.1, decision 1).
pub fn transition_in_endpoint(from: SimStatus, to: SimStatus) -> Result<Option<SimStatus>, Rule> {
    use SimStatus::*;
    match (from, to) {
        (Issued | FactoryTest, Suspended) => Ok(Some(to)),
        _ => transition(from, to),
    }
}

/// The event of a status change.
pub fn status_event(to: SimStatus) -> i32 {
    match to {
        SimStatus::Activated => super::events::SIM_ACTIVATION,
        SimStatus::Suspended => super::events::SIM_SUSPENSION,
        SimStatus::FactoryTest => super::events::SIM_FACTORY_TEST,
        SimStatus::Deleted => super::events::SIM_DELETION,
        SimStatus::Issued => super::events::SIM_ASSIGNED,
    }
}

/// How the caller's org stands to a SIM; it decides which fields it may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Relation {
    None,
    Customer,
    Reseller,
    /// The reseller of a SIM it has not sold on (no customer org, or its own org): it runs the SIM
    /// as its customer would, so a reseller can activate and suspend the batches it registered and
    /// the SIMs in its own devices.
    ResellerUnsold,
    Issuer,
}

/// An org and its path, as far as relations need it.
pub struct OrgAt<'a> {
    pub id: i64,
    pub path: &'a str,
}

/// The strongest relation: ADMIN and the issuer's org or ancestors are the issuer; the reseller's
/// org or ancestors the reseller; the customer's org the customer.
pub fn relation(
    p: &Principal,
    issuer: Option<OrgAt>,
    reseller: Option<OrgAt>,
    customer: Option<OrgAt>,
) -> Relation {
    let at_or_above = |o: &Option<OrgAt>| {
        o.as_ref()
            .is_some_and(|o| path_ids(o.path).contains(&p.org_id))
    };
    if p.level == AccessLevel::Admin || at_or_above(&issuer) {
        Relation::Issuer
    } else if at_or_above(&reseller) && customer.as_ref().is_none_or(|c| c.id == p.org_id) {
        // Not sold on, or sold to itself (a device of its own took the SIM): it runs the SIM.
        Relation::ResellerUnsold
    } else if at_or_above(&reseller) {
        Relation::Reseller
    } else if customer.as_ref().is_some_and(|c| c.id == p.org_id) {
        Relation::Customer
    } else {
        Relation::None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimField {
    Status,
    IssuerOrg,
    ResellerOrg,
    CustomerOrg,
}

/// Issuer: every field; reseller: reseller and customer org; customer: status only.
pub fn may_change(rel: Relation, field: SimField) -> bool {
    match rel {
        Relation::Issuer => true,
        Relation::Reseller => matches!(field, SimField::ResellerOrg | SimField::CustomerOrg),
        Relation::ResellerUnsold => field != SimField::IssuerOrg,
        Relation::Customer => field == SimField::Status,
        Relation::None => false,
    }
}

/// Which orgs a field may be set to: a direct child of the caller's org of the right kind (ADMIN:
/// any org of that kind); `customer_org` may also be the caller's own org.
pub fn valid_target(
    p: &Principal,
    field: SimField,
    target_kind: OrgKind,
    target_id: i64,
    target_parent: Option<i64>,
) -> Result<(), DomainError> {
    let kind_ok = match field {
        SimField::IssuerOrg => matches!(target_kind, OrgKind::Mno | OrgKind::ServiceProvider),
        SimField::ResellerOrg => matches!(
            target_kind,
            OrgKind::Mno | OrgKind::ServiceProvider | OrgKind::Reseller
        ),
        SimField::CustomerOrg => target_kind == OrgKind::Enterprise || target_id == p.org_id,
        SimField::Status => false,
    };
    let place_ok = p.level == AccessLevel::Admin
        || target_parent == Some(p.org_id)
        || (field == SimField::CustomerOrg && target_id == p.org_id);
    if kind_ok && place_ok {
        Ok(())
    } else {
        let name = match field {
            SimField::IssuerOrg => "issuer_org",
            SimField::ResellerOrg => "reseller_org",
            SimField::CustomerOrg => "customer_org",
            SimField::Status => "status",
        };
        Err(DomainError::invalid_as(
            Invalid::Reference,
            name,
            format!("{name} {target_id} cannot be assigned to this SIM by your organisation"),
        ))
    }
}

/// emnify paging: 1-based page, out-of-range values adjusted, not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmnifyPage {
    pub page: i64,
    pub per_page: i64,
}

impl EmnifyPage {
    pub fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        default: i64,
        max: i64,
    ) -> Result<EmnifyPage, DomainError> {
        let num = |name: &str, v: Option<&str>| -> Result<Option<i64>, DomainError> {
            v.map(|s| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| DomainError::BadRequest(format!("{name} must be a number").into()))
            })
            .transpose()
        };
        let page = num("page", page)?.unwrap_or(1).max(1);
        let per_page = match num("per_page", per_page)? {
            Some(n) if n < 1 => default,
            Some(n) => n.min(max),
            None => default,
        };
        Ok(EmnifyPage { page, per_page })
    }

    /// The page actually served: past the end means the last page.
    pub fn clamp(self, total: i64) -> EmnifyPage {
        EmnifyPage {
            page: self.page.min(Self::pages(total, self.per_page)),
            per_page: self.per_page,
        }
    }

    pub fn pages(total: i64, per_page: i64) -> i64 {
        (total.saturating_add(per_page - 1) / per_page.max(1)).max(1)
    }

    /// Saturates: a page far past the end reads nothing and is then served as the last page.
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// The names a `q` or `sort` accepts, each with the key it stands for: the table is the whole
/// vocabulary, so a caller matches on keys exhaustively and an unknown name never reaches it.
pub type Fields<K> = [(&'static str, K)];

fn lookup<K: Copy>(fields: &Fields<K>, name: &str) -> Option<(&'static str, K)> {
    fields.iter().find(|(n, _)| *n == name).copied()
}

fn names<K>(fields: &Fields<K>) -> String {
    fields
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `q=field:value,field:value` with field names from `fields` (case-insensitive): the name, its key
/// and the value of each.
pub fn parse_q<'a, K: Copy>(
    q: &'a str,
    fields: &Fields<K>,
) -> Result<Vec<(&'static str, K, &'a str)>, DomainError> {
    let mut out = Vec::new();
    for part in q.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (field, value) = part.split_once(':').ok_or_else(|| {
            DomainError::invalid_as(Invalid::Query, "q", format!("'{part}' is not field:value"))
        })?;
        let field = field.trim().to_ascii_lowercase();
        let (name, key) = lookup(fields, &field).ok_or_else(|| {
            DomainError::invalid_as(
                Invalid::Query,
                "q",
                format!(
                    "'{field}' is not a filter field (allowed: {})",
                    names(fields)
                ),
            )
        })?;
        out.push((name, key, value.trim()));
    }
    Ok(out)
}

/// The Python SDK's SIM list without a device and with a filter model joins the two without a comma
/// (`q=model:1endpoint:null`): read as `model:1,endpoint:null`.
pub fn sdk_q(q: &str) -> std::borrow::Cow<'_, str> {
    const GLUED: &str = "endpoint:null";
    match q.find(GLUED) {
        Some(at) if at > 0 && !q[..at].ends_with(',') => {
            std::borrow::Cow::Owned(format!("{},{}", &q[..at], &q[at..]))
        }
        _ => std::borrow::Cow::Borrowed(q),
    }
}

/// `sort=-status,id` with names from `fields`; a `SimSort.` prefix is ignored (the Python SDK sends
/// the enum's name). The key and whether descending, in order.
pub fn parse_sort<K: Copy>(sort: &str, fields: &Fields<K>) -> Result<Vec<(K, bool)>, DomainError> {
    let mut out = Vec::new();
    for part in sort.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (desc, name) = match part.as_bytes()[0] {
            b'-' => (true, &part[1..]),
            b'+' => (false, &part[1..]),
            _ => (false, part),
        };
        let name = name
            .rsplit_once('.')
            .map_or(name, |(_, n)| n)
            .to_ascii_lowercase();
        let (_, key) = lookup(fields, &name).ok_or_else(|| {
            DomainError::invalid_as(
                Invalid::Sort,
                "sort",
                format!("'{name}' is not a sort field (allowed: {})", names(fields)),
            )
        })?;
        out.push((key, desc));
    }
    Ok(out)
}

pub fn q_int(field: &str, v: &str) -> Result<i64, DomainError> {
    v.parse().map_err(|_| {
        DomainError::invalid_as(Invalid::Query, "q", format!("{field} must be a number"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iccid_forms_follow_the_contract() {
        // A stored 20-digit ICC whose last digit is its Luhn check: first 19 digits.
        let base = "8988303000000001000";
        let mut with = base.to_string();
        with.push(luhn::checksum(base.as_bytes()) as char);
        assert_eq!(iccid_forms(&with), (base.to_string(), with.clone()));
        // A stored 19-digit ICC as is.
        assert_eq!(iccid_forms(base), (base.to_string(), with.clone()));
        assert!(luhn::valid(&iccid_forms(base).1));
        assert_eq!(stored_for_iccid(base, false), base);
        assert_eq!(stored_for_iccid(&with, true), base);
    }

    #[test]
    fn the_status_machine() {
        use SimStatus::*;
        for (from, to) in [
            (Issued, Activated),
            (Issued, FactoryTest),
            (FactoryTest, Activated),
            (Activated, Suspended),
            (Suspended, Activated),
        ] {
            assert_eq!(transition(from, to).unwrap(), Some(to));
        }
        assert_eq!(transition(Activated, Activated).unwrap(), None);
        let e = transition(Suspended, Issued).unwrap_err();
        assert_eq!(e.code(), "status");
        assert!(e.to_string().contains("'Suspended' to 'Issued'"));
        assert!(transition(Activated, FactoryTest).is_err());
        assert!(transition(Issued, Suspended).is_err());
        assert!(transition(Activated, Deleted).is_err());
    }

    #[test]
    fn a_sim_in_an_endpoint_may_also_be_suspended_from_issued_or_factory_test() {
        use SimStatus::*;
        assert_eq!(
            transition_in_endpoint(Issued, Suspended),
            Ok(Some(Suspended))
        );
        assert_eq!(
            transition_in_endpoint(FactoryTest, Suspended),
            Ok(Some(Suspended))
        );
        assert_eq!(
            transition_in_endpoint(Activated, Suspended),
            Ok(Some(Suspended))
        );
        assert_eq!(transition_in_endpoint(Suspended, Suspended), Ok(None));
        assert!(transition_in_endpoint(Suspended, Issued).is_err());
        assert!(transition_in_endpoint(Activated, Deleted).is_err());
    }

    #[test]
    fn a_reseller_runs_the_sims_it_kept() {
        let p = Principal {
            user_id: 1,
            user_oid: "0".repeat(24),
            email: "r@example.com".into(),
            name: "r".into(),
            level: AccessLevel::ResellerAdmin,
            org_id: 2,
            org_oid: "1".repeat(24),
            org_kind: OrgKind::Reseller,
            org_path: "/1/2/".into(),
            token_id: None,
            request_id: None,
        };
        let at = |id, path| Some(OrgAt { id, path });
        let issuer = || at(1, "/1/");
        let reseller = || at(2, "/1/2/");
        assert_eq!(
            relation(&p, issuer(), reseller(), None),
            Relation::ResellerUnsold
        );
        assert_eq!(
            relation(&p, issuer(), reseller(), at(2, "/1/2/")),
            Relation::ResellerUnsold
        );
        assert_eq!(
            relation(&p, issuer(), reseller(), at(5, "/1/2/5/")),
            Relation::Reseller
        );
    }

    #[test]
    fn the_sdks_glued_q_is_read_as_two_conditions() {
        assert_eq!(sdk_q("model:1endpoint:null"), "model:1,endpoint:null");
        assert_eq!(sdk_q("endpoint:null"), "endpoint:null");
        assert_eq!(sdk_q("model:1,endpoint:null"), "model:1,endpoint:null");
        assert_eq!(sdk_q("status:1"), "status:1");
    }

    #[test]
    fn fields_by_relation() {
        assert!(may_change(Relation::Issuer, SimField::IssuerOrg));
        assert!(may_change(Relation::Reseller, SimField::CustomerOrg));
        assert!(!may_change(Relation::Reseller, SimField::Status));
        assert!(may_change(Relation::ResellerUnsold, SimField::Status));
        assert!(!may_change(Relation::ResellerUnsold, SimField::IssuerOrg));
        assert!(may_change(Relation::Customer, SimField::Status));
        assert!(!may_change(Relation::Customer, SimField::ResellerOrg));
        assert!(!may_change(Relation::None, SimField::Status));
    }

    #[test]
    fn paging_adjusts_instead_of_refusing() {
        assert_eq!(
            EmnifyPage::parse(None, None, 2000, 2500).unwrap(),
            EmnifyPage {
                page: 1,
                per_page: 2000
            }
        );
        assert_eq!(
            EmnifyPage::parse(Some("0"), Some("0"), 2000, 2500).unwrap(),
            EmnifyPage {
                page: 1,
                per_page: 2000
            }
        );
        assert_eq!(
            EmnifyPage::parse(Some("3"), Some("9999"), 2000, 2500).unwrap(),
            EmnifyPage {
                page: 3,
                per_page: 2500
            }
        );
        assert_eq!(
            EmnifyPage::parse(Some("x"), None, 2000, 2500)
                .unwrap_err()
                .code(),
            "bad_request"
        );
        let p = EmnifyPage {
            page: 9,
            per_page: 10,
        }
        .clamp(25);
        assert_eq!((p.page, p.offset()), (3, 20));
        let huge = EmnifyPage::parse(Some("9223372036854775807"), Some("2500"), 100, 2500).unwrap();
        assert_eq!(huge.offset(), i64::MAX);
        assert_eq!(huge.clamp(5001).page, 3);
        assert_eq!(EmnifyPage::pages(i64::MAX, 2500), i64::MAX / 2500);
        assert_eq!(EmnifyPage::pages(0, 10), 1);
    }

    #[test]
    fn q_and_sort() {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum F {
            Customer,
            Date,
            Model,
        }
        let fields: &Fields<F> = &[
            ("customer_org", F::Customer),
            ("production_date", F::Date),
            ("model", F::Model),
        ];
        let q = parse_q("customer_org:3,Production_Date:2019-01-25,model:4", fields).unwrap();
        assert_eq!(
            q,
            vec![
                ("customer_org", F::Customer, "3"),
                ("production_date", F::Date, "2019-01-25"),
                ("model", F::Model, "4")
            ]
        );
        let e = parse_q("colour:red", fields).unwrap_err();
        assert!(
            e.to_string()
                .contains("allowed: customer_org, production_date, model"),
            "{e}"
        );
        assert!(parse_q("model", fields).is_err());
        assert_eq!(
            parse_sort("-model,customer_org", fields).unwrap(),
            vec![(F::Model, true), (F::Customer, false)]
        );
        assert_eq!(
            parse_sort("SimSort.model", fields).unwrap(),
            vec![(F::Model, false)]
        );
        assert_eq!(
            parse_sort("MODEL", fields).unwrap(),
            vec![(F::Model, false)]
        );
        let e = parse_sort("colour", fields).unwrap_err();
        assert!(matches!(
            e,
            DomainError::Invalid {
                kind: Invalid::Sort,
                ..
            }
        ));
    }
}
