//! Rate plans and MVNO accounts: creation with SIM pick, updates, soft delete, restore, SIM change,
//! purge. Each mutation is one transaction with its SIM counters, event and audit row.
use super::db::{query, Builder, Tx};
use super::journal;
use super::keys;
use super::owners::{self, Sims};
use super::scope::{self, Owner};
use super::sims::UNUSED;
use super::*;
use crate::domain::access::Scope;
use crate::domain::error::Rule;
use crate::domain::ids::EntityRef;

pub(crate) const ACCOUNT_SELECT: &str = "SELECT m.id, m.tenant_org_id, m.oid, m.customer_org_id, m.state, \
    m.number, m.sim_id, \
     m.rate_plan_id, m.name, m.employee_user_id, m.device_type, m.imei, m.notes, m.features, m.data_disabled, \
     m.usage_block, m.number_state, m.dnd, m.updating, m.pbx, m.extension, m.extension_number, m.porting, \
     m.top_up, m.socs, m.socs_override, m.soc_limit, m.start_date, m.delete_date, m.deleted_at, \
     m.preterminate_until, m.created_at, m.updated_at, m.version, \
     c.oid AS customer_oid, c.name AS customer_name, c.path AS customer_path, \
     rp.oid AS rate_plan_oid, rp.name AS rate_plan_name, e.oid AS employee_oid, e.name AS employee_name, \
     s.iccid AS sim_iccid, s.imsi AS sim_imsi, s.network AS sim_network, s.form_factor AS sim_form_factor \
     FROM mvno_accounts m JOIN organisations c ON c.id = m.customer_org_id \
     LEFT JOIN rate_plans rp ON rp.id = m.rate_plan_id LEFT JOIN users e ON e.id = m.employee_user_id \
     LEFT JOIN sims s ON s.tenant_org_id = m.tenant_org_id AND s.id = m.sim_id";

pub(crate) const LIVE: &str = "m.deleted_at IS NULL AND m.purged_at IS NULL";

pub(crate) const RATE_PLAN_COLUMNS: &str = "id, oid, name, owner_org_id, created_at";

/// Picks an unused SIM of the account's tenant from the storage chain, nearest holder first, lowest
/// ICC first: one index-ordered `LIMIT 1` per holder (sims_unused_storage_idx), locked where the
/// backend can, so that two concurrent picks never get the same SIM. Returns (id, storage, network,
/// form factor, auto-assign).
///
/// A SIM whose orgs lie under another tenant too (key [`keys::SHARED`]) is never picked: its issuer
/// there could act on the subscriber (the rule `esim_patch` applies to SIMs in use), and an account
/// and its SIM share one key, so that they are read and locked together (docs/scale-out.md).
pub(crate) async fn pick_sim(
    tx: &mut Tx,
    backend: Backend,
    tenant: i64,
    pick: &SimPick,
) -> StoreResult<(i64, Option<i64>, String, String, bool)> {
    for holder in &pick.chain {
        let mut qb = Builder::new(format!(
            "SELECT s.id, s.in_storage_at, s.network, s.form_factor, s.auto_assign FROM sims s \
             WHERE {UNUSED} AND s.tenant_org_id = "
        ));
        qb.push_bind(tenant).push(" AND s.in_storage_at = ");
        qb.push_bind(*holder);
        if let Some(icc) = &pick.iccid {
            qb.push(" AND s.iccid = ").push_bind(icc.as_str());
        }
        if pick.esim_only {
            qb.push(" AND s.form_factor = 'eSIM'");
        }
        if pick.auto_only {
            qb.push(" AND s.auto_assign = ").push_bind(true);
        }
        qb.push(" ORDER BY s.iccid LIMIT 1")
            .push(backend.pick_sim());
        if let Some(found) = qb.build().fetch_optional(&mut *tx).await? {
            return Ok(found);
        }
    }
    Err(Rule::NoSim {
        esim: pick.esim_only,
    }
    .into())
}

/// The account, read under its lock (a purged one is gone).
async fn lock_account(
    tx: &mut Tx,
    backend: Backend,
    scope: &Scope,
    account: AccountKey,
) -> StoreResult<MvnoRecord> {
    let mut qb = Builder::new(format!(
        "{ACCOUNT_SELECT} WHERE m.purged_at IS NULL AND m.id = "
    ));
    qb.push_bind(account.id)
        .push(" AND m.tenant_org_id = ")
        .push_bind(account.tenant);
    scope::push_scope(&mut qb, scope, ACCOUNT);
    qb.push(backend.lock_account());
    qb.build()
        .fetch_optional(tx)
        .await?
        .ok_or(StoreError::NotFound)
}

/// How an account is in a scope: by its customer org (`c` in [`ACCOUNT_SELECT`]).
const ACCOUNT: Owner = Owner::Org {
    id: "m.customer_org_id",
    path: "c.path",
};

/// The picked (locked) SIM joins the account: same key.
async fn attach_sim(
    tx: &mut Tx,
    account: i64,
    tenant: i64,
    sim_id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    query(
        "UPDATE sims SET mvno_account_id = $1, updated_at = $2, version = version + 1 \
         WHERE id = $3 AND tenant_org_id = $4",
    )
    .bind(account)
    .bind(at)
    .bind(sim_id)
    .bind(tenant)
    .execute(tx)
    .await?;
    Ok(())
}

async fn reload_account(tx: &mut Tx, account: AccountKey) -> StoreResult<MvnoRecord> {
    query(format!(
        "{ACCOUNT_SELECT} WHERE m.id = $1 AND m.tenant_org_id = $2"
    ))
    .bind(account.id)
    .bind(account.tenant)
    .fetch_one(tx)
    .await
}

/// Retires a SIM that leaves an account: deleted, never back in storage.
async fn retire_sim(
    tx: &mut Tx,
    backend: Backend,
    sim_id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let Some(tenant) = keys::pin_sim(tx, backend, sim_id).await? else {
        return Ok(());
    };
    let retire = query(
        "UPDATE sims SET status = 3, mvno_account_id = NULL, updated_at = $1, version = \
            version + 1 \
         WHERE id = $2 AND tenant_org_id = $3",
    )
    .bind(at)
    .bind(sim_id)
    .bind(tenant);
    owners::update(tx, backend, Sims::One(sim_id), retire).await?;
    Ok(())
}

/// After a change to an account: the account as it is now, its event and its audit row.
pub(crate) async fn account_changed(
    tx: &mut Tx,
    actor: &Actor,
    account: AccountKey,
    before: &MvnoRecord,
    action: &str,
    type_id: i32,
    description: &str,
) -> StoreResult<MvnoRecord> {
    let after = reload_account(tx, account).await?;
    let detail =
        serde_json::json!({"account": after.oid, "preterminate_until": after.preterminate_until});
    journal::event(
        tx,
        actor,
        Some(after.customer_org_id),
        after.sim_id,
        type_id,
        description,
        Some(&detail),
    )
    .await?;
    journal::audit(
        tx,
        actor,
        action,
        "mvno_account",
        &after.oid,
        Some(before),
        Some(&after),
    )
    .await?;
    Ok(after)
}

#[async_trait::async_trait]
impl MvnoStore for SqlStore {
    async fn rate_plan_create(&self, new: NewRatePlan, actor: &Actor) -> StoreResult<RatePlan> {
        let mut tx = self.pool.begin_write().await?;
        let plan: RatePlan = query(format!(
            "INSERT INTO rate_plans (oid, name, owner_org_id, created_at) VALUES ($1, $2, $3, $4) \
                     RETURNING {RATE_PLAN_COLUMNS}"
        ))
        .bind(&new.oid)
        .bind(&new.name)
        .bind(new.owner_org_id)
        .bind(actor.at)
        .fetch_one(&mut tx)
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "rate_plan",
            plan.id,
            None::<&()>,
            Some(&plan),
        )
        .await?;
        tx.commit().await?;
        Ok(plan)
    }

    async fn rate_plan_list(
        &self,
        visible_to: Option<&str>,
        page: crate::domain::paging::Page,
    ) -> StoreResult<(Vec<RatePlan>, i64)> {
        let filters = |qb: &mut Builder<'_>| {
            if let Some(path) = visible_to {
                // Offered to all, owned by an ancestor, or owned inside the subtree.
                qb.push(" AND (owner_org_id IS NULL OR owner_org_id IN ");
                qb.push_list(crate::domain::org::path_ids(path));
                let (lo, hi) = crate::domain::org::subtree_range(path);
                qb.push(" OR owner_org_id IN (SELECT id FROM organisations WHERE path >= ")
                    .push_bind(lo)
                    .push(" AND path < ")
                    .push_bind(hi)
                    .push("))");
            }
        };
        let mut count = Builder::new("SELECT COUNT(*) FROM rate_plans WHERE 1=1");
        filters(&mut count);
        let total: i64 = count.build().scalar(&self.pool).await?;
        let mut list = Builder::new(format!(
            "SELECT {RATE_PLAN_COLUMNS} FROM rate_plans WHERE 1=1"
        ));
        filters(&mut list);
        list.push(" ORDER BY id LIMIT ")
            .push_bind(page.limit)
            .push(" OFFSET ")
            .push_bind(page.offset);
        Ok((list.build().fetch_all(&self.pool).await?, total))
    }

    async fn rate_plan_find(&self, r: &EntityRef) -> StoreResult<Option<RatePlan>> {
        let q = match r {
            EntityRef::Id(id) => query(format!(
                "SELECT {RATE_PLAN_COLUMNS} FROM rate_plans WHERE id = $1"
            ))
            .bind(*id),
            EntityRef::Oid(oid) => query(format!(
                "SELECT {RATE_PLAN_COLUMNS} FROM rate_plans WHERE oid = $1"
            ))
            .bind(oid.as_str().to_string()),
        };
        Ok(q.fetch_optional(&self.pool).await?)
    }

    async fn mvno_create(
        &self,
        new: NewAccount,
        pick: &SimPick,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord> {
        let mut tx = self.pool.begin_write().await?;
        let backend = MetaStore::backend(self);
        let tenant = keys::of_org(&mut tx, Some(new.customer_org_id)).await?;
        let (sim_id, storage, network, form_factor, auto) =
            pick_sim(&mut tx, backend, tenant, pick).await?;
        if backend != Backend::Sqlite {
            // The number registry keeps live numbers unique across tenants (docs/scale-out.md, rule 1).
            query("INSERT INTO mvno_numbers (number, tenant_org_id) VALUES ($1, $2)")
                .bind(&new.number)
                .bind(tenant)
                .execute(&mut tx)
                .await?;
        }
        let id: i64 = query(
                    "INSERT INTO mvno_accounts (oid, customer_org_id, state, number, sim_id, \
                        rate_plan_id, name, \
                     employee_user_id, device_type, imei, notes, features, start_date, created_at, updated_at, \
                     tenant_org_id) \
                     VALUES ($1, $2, 'ACTIVE', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) RETURNING id",
                )
                .bind(&new.oid)
                .bind(new.customer_org_id)
                .bind(&new.number)
                .bind(sim_id)
                .bind(new.rate_plan_id)
                .bind(&new.name)
                .bind(new.employee_user_id)
                .bind(&new.device_type)
                .bind(&new.imei)
                .bind(&new.notes)
                .bind(sqlx::types::Json(&new.features))
                .bind(new.start_date)
                .bind(actor.at)
                .bind(tenant)
                .scalar(&mut tx)
                .await?;
        attach_sim(&mut tx, id, tenant, sim_id, actor.at).await?;
        sims::adjust_count(&mut tx, storage, &network, &form_factor, auto, -1i64).await?;
        let rec = reload_account(&mut tx, AccountKey { id, tenant }).await?;
        journal::event(
            &mut tx,
            actor,
            new.customer_org_id,
            Some(sim_id),
            crate::domain::events::MVNO_ACCOUNT_CREATED,
            "MVNO account created",
            Some(&serde_json::json!({"account": rec.oid, "number": rec.number})),
        )
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "mvno_account",
            &rec.oid,
            None::<&()>,
            Some(&rec),
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn mvno_find(
        &self,
        scope: &Scope,
        r: &AccountRef,
        deleted: bool,
    ) -> StoreResult<Option<MvnoRecord>> {
        let which = if deleted {
            "m.deleted_at IS NOT NULL AND m.purged_at IS NULL"
        } else {
            LIVE
        };
        let (col, value) = match r {
            AccountRef::Oid(o) => ("m.oid", o.as_str()),
            AccountRef::Number(n) => ("m.number", n.as_str()),
        };
        // The account's key, where it can be known without asking every shard: a caller below the
        // platform sees only its own tenant's accounts; a number's key is in its registry.
        let tenant = match (scope, r, MetaStore::backend(self)) {
            (Scope::Org { path, .. }, _, _) => crate::domain::org::tenant_of_path(path),
            (_, AccountRef::Number(n), Backend::Postgres | Backend::Citus) => {
                let key: Option<Option<i64>> =
                    query("SELECT tenant_org_id FROM mvno_numbers WHERE number = $1")
                        .bind(n.as_str())
                        .scalar_optional(&self.pool)
                        .await?;
                match key {
                    // Every number of an account not yet purged is in the registry.
                    None => return Ok(None),
                    Some(t) => t,
                }
            }
            _ => None,
        };
        let mut qb = Builder::new(format!("{ACCOUNT_SELECT} WHERE {which} AND {col} = "));
        qb.push_bind(value);
        if let Some(t) = tenant {
            qb.push(" AND m.tenant_org_id = ").push_bind(t);
        }
        scope::push_scope(&mut qb, scope, ACCOUNT);
        qb.build().fetch_optional(&self.pool).await
    }

    async fn mvno_list(
        &self,
        f: &MvnoFilter,
        page: crate::domain::paging::Page,
    ) -> StoreResult<(Vec<MvnoRecord>, i64)> {
        let filters = |qb: &mut Builder<'_>| {
            match f.deleted_restorable_at {
                None => {
                    qb.push(format!(" WHERE {LIVE}"));
                }
                Some(now) => {
                    qb.push(
                        " WHERE m.deleted_at IS NOT NULL AND m.purged_at IS NULL AND \
                        m.preterminate_until > ",
                    )
                    .push_bind(now);
                }
            }
            scope::push_storage(qb, &f.storage, "m.customer_org_id");
            if let Some(rp) = f.rate_plan_id {
                qb.push(" AND m.rate_plan_id = ").push_bind(rp);
            }
            if let Some(n) = &f.network {
                qb.push(" AND s.network = ").push_bind(n.clone());
            }
            if let Some(text) = &f.text {
                let like = format!("%{}%", like_literal(text));
                let ilike = MetaStore::backend(self).ilike();
                let esc = MetaStore::backend(self).like_escape();
                qb.push(format!(" AND (m.number {ilike} "))
                    .push_bind(like.clone())
                    .push(esc);
                qb.push(format!(" OR m.device_type {ilike} "))
                    .push_bind(like.clone())
                    .push(esc);
                qb.push(format!(" OR s.iccid {ilike} "))
                    .push_bind(like.clone())
                    .push(esc);
                qb.push(format!(" OR s.imsi {ilike} "))
                    .push_bind(like.clone())
                    .push(esc);
                qb.push(format!(" OR m.notes {ilike} "))
                    .push_bind(like)
                    .push(esc)
                    .push(")");
            }
        };
        let mut count = Builder::new(
            "SELECT COUNT(*) FROM mvno_accounts m \
             LEFT JOIN sims s ON s.tenant_org_id = m.tenant_org_id AND s.id = m.sim_id",
        );
        filters(&mut count);
        let total: i64 = count.build().scalar(&self.reads).await?;
        if page.offset >= total {
            // Past the end (Citus would also add a huge offset to the limit it sends each shard).
            return Ok((Vec::new(), total));
        }
        let mut list = Builder::new(ACCOUNT_SELECT);
        filters(&mut list);
        list.push(if f.deleted_restorable_at.is_some() {
            " ORDER BY m.deleted_at DESC, m.oid"
        } else {
            " ORDER BY m.oid"
        });
        list.push(" LIMIT ")
            .push_bind(page.limit)
            .push(" OFFSET ")
            .push_bind(page.offset);
        Ok((list.build().fetch_all(&self.reads).await?, total))
    }

    async fn mvno_update(
        &self,
        scope: &Scope,
        account: AccountKey,
        patch: MvnoPatch,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord> {
        let mut tx = self.pool.begin_write().await?;
        let before = lock_account(&mut tx, MetaStore::backend(self), scope, account).await?;
        let id = account.id;
        if before.deleted_at.is_some() {
            return Err(crate::domain::error::Rule::AccountDeleted.into());
        }
        actor.check_version(before.version)?;
        // Every partial value is applied to the row as read under its lock.
        let features = match &patch.features {
            Some(f) => f.applied_to(before.features.0),
            None => before.features.0,
        };
        query(
                    "UPDATE mvno_accounts SET state = $1, features = $2, name = $3, \
                        employee_user_id = $4, \
                     device_type = $5, \
                     imei = $6, notes = $7, dnd = $8, data_disabled = $9, rate_plan_id = $10, socs_override = $11, \
                     soc_limit = $12, updated_at = $13, version = version + 1 WHERE id = $14 AND tenant_org_id = $15",
                )
                .bind(patch.state.unwrap_or(before.state).as_str())
                .bind(sqlx::types::Json(&features))
                .bind(patch.name.unwrap_or_else(|| before.name.clone()))
                .bind(patch.employee_user_id.unwrap_or(before.employee_user_id))
                .bind(patch.device_type.unwrap_or_else(|| before.device_type.clone()))
                .bind(patch.imei.unwrap_or_else(|| before.imei.clone()))
                .bind(patch.notes.unwrap_or_else(|| before.notes.clone()))
                .bind(patch.dnd.unwrap_or(before.dnd))
                .bind(patch.data_disabled.unwrap_or(before.data_disabled))
                .bind(patch.rate_plan_id.or(before.rate_plan_id))
                .bind(patch.socs_override.or_else(|| before.socs_override.clone().map(|j| j.0)).map(sqlx::types::Json))
                .bind(patch.soc_limit.or_else(|| before.soc_limit.clone().map(|j| j.0)).map(sqlx::types::Json))
                .bind(actor.at)
                .bind(id)
                .bind(account.tenant)
                .execute(&mut tx)
                .await?;
        let after = account_changed(
            &mut tx,
            actor,
            account,
            &before,
            "update",
            crate::domain::events::MVNO_ACCOUNT_UPDATED,
            "MVNO account updated",
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn mvno_delete(
        &self,
        scope: &Scope,
        account: AccountKey,
        preterminate_until: chrono::DateTime<chrono::Utc>,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord> {
        let mut tx = self.pool.begin_write().await?;
        let before = lock_account(&mut tx, MetaStore::backend(self), scope, account).await?;
        let id = account.id;
        if before.deleted_at.is_some() {
            return Err(StoreError::NotFound);
        }
        actor.check_version(before.version)?;
        query(
            "UPDATE mvno_accounts SET state = 'DELETED', deleted_at = $1, \
                        preterminate_until = $2, \
                     updated_at = $1, \
                     version = version + 1 WHERE id = $3 AND tenant_org_id = $4",
        )
        .bind(actor.at)
        .bind(preterminate_until)
        .bind(id)
        .bind(account.tenant)
        .execute(&mut tx)
        .await?;
        let after = account_changed(
            &mut tx,
            actor,
            account,
            &before,
            "delete",
            crate::domain::events::MVNO_ACCOUNT_DELETED,
            "MVNO account deleted",
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn mvno_restore(
        &self,
        scope: &Scope,
        account: AccountKey,
        rate_plan_id: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord> {
        let mut tx = self.pool.begin_write().await?;
        let before = lock_account(&mut tx, MetaStore::backend(self), scope, account).await?;
        let id = account.id;
        let restorable = before.deleted_at.is_some()
            && before
                .preterminate_until
                .is_some_and(|u| crate::domain::mvno::restorable(actor.at, u));
        if !restorable {
            return Err(crate::domain::error::Rule::NotRestorable.into());
        }
        let clash: i64 = query(
            "SELECT COUNT(*) FROM mvno_accounts WHERE number = $1 AND id <> $2 AND \
                        purged_at IS NULL",
        )
        .bind(&before.number)
        .bind(id)
        .scalar(&mut tx)
        .await?;
        if clash > 0 {
            return Err(StoreError::Conflict {
                constraint: "mvno_accounts_number_key".into(),
            });
        }
        query(
                    "UPDATE mvno_accounts SET state = 'ACTIVE', deleted_at = NULL, \
                        preterminate_until = NULL, \
                     rate_plan_id = COALESCE($1, rate_plan_id), updated_at = $2, version = version + 1 WHERE id = $3 \
                     AND tenant_org_id = $4",
                )
                .bind(rate_plan_id)
                .bind(actor.at)
                .bind(id)
                .bind(account.tenant)
                .execute(&mut tx)
                .await?;
        let after = account_changed(
            &mut tx,
            actor,
            account,
            &before,
            "restore",
            crate::domain::events::MVNO_ACCOUNT_RESTORED,
            "MVNO account restored",
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn mvno_change_sim(
        &self,
        scope: &Scope,
        account: AccountKey,
        pick: &SimPick,
        actor: &Actor,
    ) -> StoreResult<(MvnoRecord, SimRecord)> {
        use crate::domain::mvno::AccountState;
        let mut tx = self.pool.begin_write().await?;
        let before = lock_account(&mut tx, MetaStore::backend(self), scope, account).await?;
        let id = account.id;
        if before.deleted_at.is_some()
            || !matches!(before.state, AccountState::Active | AccountState::Blocked)
        {
            return Err(crate::domain::error::Rule::AccountState.into());
        }
        let tenant = keys::of_org(&mut tx, Some(before.customer_org_id)).await?;
        let (sim_id, storage, network, form_factor, auto) =
            pick_sim(&mut tx, MetaStore::backend(self), tenant, pick).await?;
        if let Some(old) = before.sim_id {
            // The old SIM is retired: deleted, never back in storage.
            retire_sim(&mut tx, MetaStore::backend(self), old, actor.at).await?;
        }
        attach_sim(&mut tx, id, tenant, sim_id, actor.at).await?;
        sims::adjust_count(&mut tx, storage, &network, &form_factor, auto, -1i64).await?;
        query(
            "UPDATE mvno_accounts SET sim_id = $1, updated_at = $2, version = version + 1 \
            WHERE id = $3 AND tenant_org_id = $4",
        )
        .bind(sim_id)
        .bind(actor.at)
        .bind(id)
        .bind(account.tenant)
        .execute(&mut tx)
        .await?;
        let after = reload_account(&mut tx, account).await?;
        let detail = serde_json::json!({"account": after.oid, "from": before.sim_iccid, "to": after.sim_iccid});
        let changed = crate::domain::events::SIM_CHANGED;
        journal::event(
            &mut tx,
            actor,
            after.customer_org_id,
            Some(sim_id),
            changed,
            "SIM changed",
            Some(&detail),
        )
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "change_sim",
            "mvno_account",
            &after.oid,
            Some(&before),
            Some(&after),
        )
        .await?;
        let sim: SimRecord = query(format!("{} WHERE s.id = $1", sims::SIM_SELECT))
            .bind(sim_id)
            .fetch_one(&mut tx)
            .await?;
        tx.commit().await?;
        Ok((after, sim))
    }

    async fn mvno_purge_due(&self, actor: &Actor, limit: i64) -> StoreResult<usize> {
        let mut tx = self.pool.begin_write().await?;
        let backend = MetaStore::backend(self);
        // One tenant at a time: on Citus a row lock names one shard (docs/scale-out.md, rule 5).
        let tenants: Vec<i64> = query(
            "SELECT DISTINCT tenant_org_id FROM mvno_accounts WHERE deleted_at IS NOT NULL \
             AND purged_at IS NULL AND preterminate_until <= $1 ORDER BY 1",
        )
        .bind(actor.at)
        .scalars(&mut tx)
        .await?;
        type Due = (i64, String, i64, Option<i64>, Option<String>, i64);
        let mut due: Vec<Due> = Vec::new();
        for tenant in tenants {
            let left = limit - due.len() as i64;
            if left <= 0 {
                break;
            }
            due.extend(
                query(format!(
                    "SELECT id, oid, customer_org_id, sim_id, number, tenant_org_id FROM mvno_accounts \
                     WHERE tenant_org_id = $1 AND deleted_at IS NOT NULL AND purged_at IS NULL \
                     AND preterminate_until <= $2 ORDER BY preterminate_until LIMIT $3{}",
                    backend.skip_locked()
                ))
                .bind(tenant)
                .bind(actor.at)
                .bind(left)
                .fetch_all::<Due>(&mut tx)
                .await?,
            );
        }
        for (id, oid, customer, sim, number, tenant) in &due {
            if let (Some(number), false) = (number, backend == Backend::Sqlite) {
                query("DELETE FROM mvno_numbers WHERE number = $1")
                    .bind(number)
                    .execute(&mut tx)
                    .await?;
            }
            // The number is released and personal fields erased; the row stays for history.
            query(
                        "UPDATE mvno_accounts SET state = 'PURGED', purged_at = $1, number = \
                            NULL, name = NULL, \
                         employee_user_id = NULL, device_type = NULL, imei = NULL, notes = NULL, updated_at = $1, \
                         version = version + 1 WHERE id = $2 AND tenant_org_id = $3 AND purged_at IS NULL",
                    )
                    .bind(actor.at)
                    .bind(*id)
                    .bind(*tenant)
                    .execute(&mut tx)
                    .await?;
            if let Some(sim) = sim {
                retire_sim(&mut tx, MetaStore::backend(self), *sim, actor.at).await?;
            }
            journal::event(
                &mut tx,
                actor,
                *customer,
                *sim,
                crate::domain::events::MVNO_ACCOUNT_PURGED,
                "MVNO account purged",
                Some(&serde_json::json!({"account": oid})),
            )
            .await?;
            journal::audit(
                &mut tx,
                actor,
                "purge",
                "mvno_account",
                oid,
                None::<&()>,
                Some(&serde_json::json!({"state": "PURGED"})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(due.len())
    }
}
