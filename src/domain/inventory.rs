//! `/sim/status`: unused-SIM counters grouped per holder and network, as the TelecomX contract
//! shapes them.
use super::org::OrgKind;
use super::sim::FormFactor;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One counter row: unused SIMs at a holder (None = central stock) by network, form factor, autoAssign.
#[derive(Debug, Clone)]
pub struct Count {
    pub holder: Option<i64>,
    pub network: String,
    pub form_factor: FormFactor,
    pub auto_assign: bool,
    pub count: i64,
}

/// What the status needs to know of a holding org.
#[derive(Debug, Clone)]
pub struct HolderInfo {
    pub oid: String,
    pub name: String,
    /// The holder itself when it is a reseller, else its nearest reseller ancestor.
    pub reseller: Option<(String, String)>,
}

/// The reseller a holder belongs to, from the holder and its ancestors (root first).
pub fn reseller_of<T>(chain: &[(T, OrgKind)]) -> Option<&T> {
    chain
        .iter()
        .rev()
        .find(|(_, kind)| kind.is_reseller())
        .map(|(org, _)| org)
}

#[derive(Default)]
struct NetworkStats {
    auto: i64,
    non_auto: i64,
    by_form: BTreeMap<FormFactor, i64>,
}

/// Builds the contract's array: one element per holder with at least one unused SIM; central stock
/// first, then by resellerName, then inStorageAtName. Zero form factors and empty networks are
/// omitted; `total` = `autoAssign` + `nonAutoAssign`.
pub fn status(
    counts: &[Count],
    holders: &BTreeMap<i64, HolderInfo>,
    central_name: &str,
) -> Vec<Value> {
    let mut grouped: BTreeMap<Option<i64>, BTreeMap<String, NetworkStats>> = BTreeMap::new();
    for c in counts.iter().filter(|c| c.count > 0) {
        let stats = grouped
            .entry(c.holder)
            .or_default()
            .entry(c.network.clone())
            .or_default();
        if c.auto_assign {
            stats.auto += c.count;
        } else {
            stats.non_auto += c.count;
        }
        *stats.by_form.entry(c.form_factor).or_default() += c.count;
    }
    let mut out: Vec<(bool, String, String, Value)> = grouped
        .into_iter()
        .filter_map(|(holder, networks)| {
            let mut network = Map::new();
            for (name, s) in networks {
                let mut o = Map::new();
                o.insert("total".into(), json!(s.auto + s.non_auto));
                o.insert("autoAssign".into(), json!(s.auto));
                o.insert("nonAutoAssign".into(), json!(s.non_auto));
                for (ff, n) in s.by_form.into_iter().filter(|(_, n)| *n > 0) {
                    o.insert(ff.as_str().into(), json!(n));
                }
                network.insert(name, Value::Object(o));
            }
            match holder {
                None => Some((
                    false,
                    String::new(),
                    central_name.to_string(),
                    json!({
                        "reseller": null, "resellerName": null, "inStorageAt": null,
                        "inStorageAtName": central_name, "network": network
                    }),
                )),
                Some(id) => {
                    let h = holders.get(&id)?;
                    let (reseller, reseller_name) = match &h.reseller {
                        Some((oid, name)) => (json!(oid), json!(name)),
                        None => (Value::Null, Value::Null),
                    };
                    Some((
                        true,
                        h.reseller.as_ref().map(|r| r.1.clone()).unwrap_or_default(),
                        h.name.clone(),
                        json!({
                            "reseller": reseller, "resellerName": reseller_name, "inStorageAt": h.oid,
                            "inStorageAtName": h.name, "network": network
                        }),
                    ))
                }
            }
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1, &a.2).cmp(&(b.0, &b.1, &b.2)));
    out.into_iter().map(|(_, _, _, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(holder: Option<i64>, network: &str, ff: FormFactor, auto: bool, count: i64) -> Count {
        Count {
            holder,
            network: network.into(),
            form_factor: ff,
            auto_assign: auto,
            count,
        }
    }

    #[test]
    fn shapes_the_contract_example_with_real_totals() {
        use FormFactor::*;
        let counts = vec![
            c(Some(7), "TELENOR", Nano, false, 20),
            c(None, "TDC", MiniMicroNano, false, 200),
            c(None, "TDC", ESim, false, 1000),
            c(Some(7), "TELENOR", MiniMicro, false, 10),
            c(Some(7), "TDC", Nano, true, 0),
            c(Some(9), "TDC", Nano, true, 3),
        ];
        let mut holders = BTreeMap::new();
        let reseller = Some((
            "61f4fd7734697b28ccaf89ff".to_string(),
            "Mobile Reseller ApS".to_string(),
        ));
        holders.insert(
            7,
            HolderInfo {
                oid: "61f4fd7734697b28ccaf89ff".into(),
                name: "Mobile Reseller ApS".into(),
                reseller: reseller.clone(),
            },
        );
        holders.insert(
            9,
            HolderInfo {
                oid: "aaaaaaaaaaaaaaaaaaaaaaaa".into(),
                name: "A customer".into(),
                reseller,
            },
        );
        let s = status(&counts, &holders, "Centrallager");
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[0],
            json!({"reseller": null, "resellerName": null, "inStorageAt": null, "inStorageAtName": "Centrallager",
            "network": {"TDC": {
                "total": 1200, "autoAssign": 0, "nonAutoAssign": 1200, "MINI_MICRO_NANO": 200, "eSIM": 1000
            }}})
        );
        // Same reseller: ordered by holder name ("A customer" before "Mobile Reseller ApS").
        assert_eq!(s[1]["inStorageAtName"], "A customer");
        assert_eq!(
            s[1]["network"]["TDC"],
            json!({"total": 3, "autoAssign": 3, "nonAutoAssign": 0, "NANO": 3})
        );
        assert_eq!(
            s[2]["network"],
            json!({"TELENOR": {"total": 30, "autoAssign": 0, "nonAutoAssign": 30, "MINI_MICRO": 10, "NANO": 20}})
        );
    }

    #[test]
    fn reseller_is_the_nearest_reseller_in_the_chain() {
        let chain = [
            ("p", OrgKind::Platform),
            ("r", OrgKind::Reseller),
            ("s", OrgKind::ServiceProvider),
            ("c", OrgKind::Enterprise),
        ];
        assert_eq!(reseller_of(&chain), Some(&"s"));
        assert_eq!(reseller_of(&chain[..2]), Some(&"r"));
        assert_eq!(reseller_of(&chain[..1]), None);
    }
}
