//! Countries and mobile operators (reference data, `migrations/data/`): the seed that fills them on
//! a database that has none, and their reads.
use super::db::{query, Builder, Pool};
use super::*;
use crate::domain::operator::{parse_countries, parse_operators};

const COUNTRIES: &str = include_str!("../../migrations/data/countries.csv");
const OPERATORS: &str = include_str!("../../migrations/data/operators.csv");
/// Rows per INSERT (five values each at most: far below either backend's limit on arguments).
const CHUNK: usize = 500;

/// Fills countries, operators and their MNCs on a database without countries. Starts of several
/// nodes at once insert the same rows with the same ids; `ON CONFLICT` keeps one of each.
pub(crate) async fn seed(pool: &Pool) -> StoreResult<()> {
    let have: i64 = query("SELECT COUNT(*) FROM countries").scalar(pool).await?;
    if have > 0 {
        return Ok(());
    }
    let countries = parse_countries(COUNTRIES).map_err(StoreError::Database)?;
    let operators = parse_operators(OPERATORS).map_err(StoreError::Database)?;
    let mncs: Vec<(i64, i64, String)> = operators
        .iter()
        .flat_map(|o| o.mncs.iter().map(move |m| (o.id, m.clone())))
        .enumerate()
        .map(|(i, (op, mnc))| (i as i64 + 1, op, mnc))
        .collect();
    let mut tx = pool.begin_write().await?;
    for chunk in countries.chunks(CHUNK) {
        let mut qb = Builder::new("INSERT INTO countries (id, name, iso_code, country_code, mcc) ");
        qb.push_values(chunk, |v, c| {
            v.push_bind(c.id)
                .push_bind(c.name.clone())
                .push_bind(c.iso_code.clone())
                .push_bind(c.country_code.clone())
                .push_bind(c.mcc.clone());
        })
        .push(" ON CONFLICT (id) DO NOTHING");
        qb.build().execute(&mut tx).await?;
    }
    for chunk in operators.chunks(CHUNK) {
        let mut qb = Builder::new("INSERT INTO operators (id, name, country_id) ");
        qb.push_values(chunk, |v, o| {
            v.push_bind(o.id)
                .push_bind(o.name.clone())
                .push_bind(o.country_id);
        })
        .push(" ON CONFLICT (id) DO NOTHING");
        qb.build().execute(&mut tx).await?;
    }
    for chunk in mncs.chunks(CHUNK) {
        let mut qb = Builder::new("INSERT INTO operator_mncs (id, operator_id, mnc) ");
        qb.push_values(chunk, |v, (id, op, mnc)| {
            v.push_bind(*id).push_bind(*op).push_bind(mnc.clone());
        })
        .push(" ON CONFLICT (id) DO NOTHING");
        qb.build().execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct OperatorHead {
    id: i64,
    name: String,
    country_id: i64,
    country_name: String,
    country_code: String,
    mcc: String,
    iso_code: String,
}

/// Operators with their countries, MNCs and TAP codes: all (by country name, then id) or those
/// with these ids (by id).
pub(crate) async fn operators(pool: &Pool, ids: Option<&[i64]>) -> StoreResult<Vec<Operator>> {
    let mut qb = Builder::new(
        "SELECT o.id, o.name, o.country_id, c.name AS country_name, c.country_code, c.mcc, \
         c.iso_code FROM operators o JOIN countries c ON c.id = o.country_id",
    );
    let children = |table: &str, column: &str| {
        let mut qb = Builder::new(format!("SELECT id, operator_id, {column} FROM {table}"));
        if let Some(ids) = ids {
            qb.push(" WHERE operator_id IN ")
                .push_list(ids.iter().copied());
        }
        qb.push(" ORDER BY id");
        qb
    };
    match ids {
        Some([]) => return Ok(Vec::new()),
        Some(ids) => {
            qb.push(" WHERE o.id IN ")
                .push_list(ids.iter().copied())
                .push(" ORDER BY o.id");
        }
        None => {
            qb.push(" ORDER BY c.name, o.id");
        }
    }
    let heads: Vec<OperatorHead> = qb.build().fetch_all(pool).await?;
    let mncs: Vec<(i64, i64, String)> = children("operator_mncs", "mnc")
        .build()
        .fetch_all(pool)
        .await?;
    let tapcodes: Vec<(i64, i64, String)> = children("operator_tapcodes", "tapcode")
        .build()
        .fetch_all(pool)
        .await?;
    let mut by_operator: std::collections::HashMap<i64, Operator> = heads
        .iter()
        .map(|h| {
            (
                h.id,
                Operator {
                    id: h.id,
                    name: h.name.clone(),
                    country_id: h.country_id,
                    country_name: h.country_name.clone(),
                    country_code: h.country_code.clone(),
                    mcc: h.mcc.clone(),
                    iso_code: h.iso_code.clone(),
                    mncs: Vec::new(),
                    tapcodes: Vec::new(),
                },
            )
        })
        .collect();
    for (id, op, mnc) in mncs {
        if let Some(o) = by_operator.get_mut(&op) {
            o.mncs.push((id, mnc));
        }
    }
    for (id, op, tapcode) in tapcodes {
        if let Some(o) = by_operator.get_mut(&op) {
            o.tapcodes.push((id, tapcode));
        }
    }
    Ok(heads
        .iter()
        .filter_map(|h| by_operator.remove(&h.id))
        .collect())
}
