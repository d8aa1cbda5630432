//! One SIM, one row: before migration 0005, ICCs were stored as given, so `X`, `X` + `F` and the
//! 20-digit form of `X` could be three SIMs. Before that migration runs, every stored ICC is
//! folded to its canonical form ([`crate::domain::sim::parse_iccid`]) — or, when folding would
//! merge two SIMs or an ICC has a wrong check digit, the start is refused with the list, because
//! which of two rows is the real SIM is an operator's decision, not a migration's.

use super::db::{query, Pool};

/// The version of the migration the fold must precede.
pub(crate) const BEFORE_VERSION: i64 = 5;

/// What folding the stored ICCs means: the renames, or why it cannot be done.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FoldPlan {
    /// (sim id, canonical ICC) for every row not yet canonical.
    pub renames: Vec<(i64, String)>,
    /// Human-readable problems; any of them refuses the fold.
    pub problems: Vec<String>,
}

/// `rows`: every stored ICC that may not be canonical (20 digits, or a trailing F), with its id.
/// `taken`: canonical ICCs already stored, with their ids (rows whose ICC is one of the new forms).
pub fn plan(rows: &[(i64, String)], taken: &[(i64, String)]) -> FoldPlan {
    let mut plan = FoldPlan::default();
    let mut claimed: std::collections::HashMap<String, i64> =
        taken.iter().map(|(id, icc)| (icc.clone(), *id)).collect();
    for (id, stored) in rows {
        match crate::domain::sim::parse_iccid(stored) {
            Err(e) => plan
                .problems
                .push(format!("SIM id {id}, ICC {stored}: {e}")),
            Ok(canonical) if &canonical == stored => {}
            Ok(canonical) => match claimed.get(&canonical) {
                Some(other) if other != id => plan.problems.push(format!(
                    "SIM id {id} (ICC {stored}) and SIM id {other} are the same SIM {canonical}"
                )),
                _ => {
                    claimed.insert(canonical.clone(), *id);
                    plan.renames.push((*id, canonical));
                }
            },
        }
    }
    plan
}

pub fn refusal(problems: &[String]) -> anyhow::Error {
    let shown: Vec<&str> = problems.iter().take(50).map(String::as_str).collect();
    anyhow::anyhow!(
        "cannot fold the stored ICCs to one form per SIM ({} problem(s)); fix or remove these rows \
         (e.g. with `UPDATE sims SET iccid = ... WHERE id = ...`) and start again:\n  {}{}",
        problems.len(),
        shown.join("\n  "),
        if problems.len() > shown.len() { "\n  ..." } else { "" }
    )
}

/// Folds the stored ICCs of a database whose migrations stop before [`BEFORE_VERSION`]; a fresh
/// database or one already past it is left alone.
pub(crate) async fn fold_iccs(pool: &Pool) -> anyhow::Result<()> {
    // (migrations applied, whether BEFORE_VERSION is among them); no table: a fresh database.
    let applied: Option<(i64, i64)> = query(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE version = $1) FROM _sqlx_migrations WHERE success",
    )
    .bind(BEFORE_VERSION)
    .fetch_one(pool)
    .await
    .ok();
    if applied.is_none_or(|(all, folded)| all == 0 || folded > 0) {
        return Ok(());
    }
    let rows: Vec<(i64, String)> = query(
        "SELECT id, iccid FROM sims WHERE length(iccid) = 20 OR iccid LIKE '%F' OR iccid LIKE '%f'",
    )
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut taken = Vec::new();
    for (_, icc) in &rows {
        if let Ok(c) = crate::domain::sim::parse_iccid(icc) {
            let found: Option<(i64, String)> = query("SELECT id, iccid FROM sims WHERE iccid = $1")
                .bind(c)
                .fetch_optional(pool)
                .await?;
            taken.extend(found);
        }
    }
    let fold = plan(&rows, &taken);
    if !fold.problems.is_empty() {
        return Err(refusal(&fold.problems));
    }
    let mut tx = pool.begin_write().await?;
    for (id, canonical) in &fold.renames {
        query("UPDATE sims SET iccid = $1 WHERE id = $2")
            .bind(canonical.as_str())
            .bind(*id)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(
        folded = fold.renames.len(),
        "stored ICCs folded to their canonical form"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sim::luhn_digit;

    #[test]
    fn folds_padding_and_check_digits_and_refuses_merges_and_bad_check_digits() {
        let body = "8945000000000000001";
        let with = format!("{body}{}", luhn_digit(body));
        let other = "8945000000000000002";
        let other_with = format!("{other}{}", luhn_digit(other));
        // A lone 20-digit ICC and a padded one fold.
        let p = plan(&[(1, with.clone()), (2, format!("{other}F"))], &[]);
        assert_eq!(p.problems, Vec::<String>::new());
        assert_eq!(
            p.renames,
            vec![(1, body.to_string()), (2, other.to_string())]
        );
        // Folding onto an existing row, or two rows onto one, is refused and names both.
        let p = plan(&[(1, with.clone())], &[(9, body.to_string())]);
        assert!(p.problems[0].contains("SIM id 1") && p.problems[0].contains("SIM id 9"));
        let p = plan(&[(1, with.clone()), (2, format!("{body}F"))], &[]);
        assert_eq!(p.problems.len(), 1);
        // A wrong check digit is refused; an already canonical row is left alone.
        let wrong = format!("{other}{}", (luhn_digit(other) as u8 - b'0' + 1) % 10);
        let p = plan(&[(3, wrong), (4, other_with[..19].to_string())], &[]);
        assert!(p.problems[0].contains("Luhn"));
        assert!(p.renames.is_empty());
        assert!(refusal(&p.problems).to_string().contains("SIM id 3"));
    }
}
