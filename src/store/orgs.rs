//! Organisations: the tenant tree.
use super::db::{query, Builder};
use super::scope::Owner;
use super::*;
use crate::domain::access::Scope;
use crate::domain::ids::EntityRef;

pub(crate) const ORG_COLUMNS: &str =
    "id, oid, name, kind, parent_id, path, country, created_at, updated_at";

/// How an organisation row is in a scope: by its own id and path.
const ORG: Owner = Owner::Org {
    id: "id",
    path: "path",
};

/// Appends `<alias>id = $n` or `<alias>oid = $n`.
pub(crate) fn push_ref(qb: &mut Builder<'_>, r: &EntityRef, alias: &str) {
    match r {
        EntityRef::Id(id) => qb.push(format_args!("{alias}id = ")).push_bind(*id),
        EntityRef::Oid(oid) => qb
            .push(format_args!("{alias}oid = "))
            .push_bind(oid.as_str().to_string()),
    };
}

#[async_trait::async_trait]
impl OrgStore for SqlStore {
    async fn org_create(&self, new: NewOrg, actor: &Actor) -> StoreResult<Org> {
        let mut tx = self.pool.begin_write().await?;
        let parent_path: Option<String> = match new.parent_id {
            Some(pid) => Some(
                query("SELECT path FROM organisations WHERE id = $1")
                    .bind(pid)
                    .scalar_optional(&mut tx)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        // The path holds the new id, so the id is taken first and the row written once: on Citus an
        // UPDATE of a reference table waits for every concurrent INSERT into it, so insert-then-update
        // deadlocks two concurrent creates.
        let id: i64 = query(MetaStore::backend(self).next_id("organisations"))
            .scalar(&mut tx)
            .await?;
        let path = crate::domain::org::child_path(parent_path.as_deref().unwrap_or("/"), id);
        let org: Org = query(format!(
            "INSERT INTO organisations (id, oid, name, kind, parent_id, path, country, \
                        created_at, updated_at, tenant_org_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING {ORG_COLUMNS}"
        ))
        .bind(id)
        .bind(&new.oid)
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(new.parent_id)
        .bind(&path)
        .bind(&new.country)
        .bind(actor.at)
        .bind(crate::domain::org::tenant_of_path(&path))
        .fetch_one(&mut tx)
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "organisation",
            org.id,
            None::<&Org>,
            Some(&org),
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    async fn org_find(&self, scope: &Scope, r: &EntityRef) -> StoreResult<Option<Org>> {
        let mut qb = Builder::new(format!("SELECT {ORG_COLUMNS} FROM organisations WHERE "));
        push_ref(&mut qb, r, "");
        scope::push_scope(&mut qb, scope, ORG);
        qb.build().fetch_optional(&self.pool).await
    }

    async fn org_list(
        &self,
        scope: &crate::domain::access::Scope,
        parent_id: Option<i64>,
        page: crate::domain::paging::Page,
    ) -> StoreResult<(Vec<Org>, i64)> {
        let filters = |qb: &mut Builder<'_>| {
            scope::push_scope(qb, scope, ORG);
            if let Some(pid) = parent_id {
                qb.push(" AND parent_id = ").push_bind(pid);
            }
        };
        let mut count = Builder::new("SELECT COUNT(*) FROM organisations WHERE 1=1");
        filters(&mut count);
        let total: i64 = count.build().scalar(&self.pool).await?;
        let mut list = Builder::new(format!("SELECT {ORG_COLUMNS} FROM organisations WHERE 1=1"));
        filters(&mut list);
        list.push(" ORDER BY id LIMIT ")
            .push_bind(page.limit)
            .push(" OFFSET ")
            .push_bind(page.offset);
        let items = list.build().fetch_all(&self.pool).await?;
        Ok((items, total))
    }

    async fn org_update(
        &self,
        scope: &Scope,
        id: i64,
        patch: OrgPatch,
        actor: &Actor,
    ) -> StoreResult<Org> {
        let mut tx = self.pool.begin_write().await?;
        let mut qb = Builder::new(format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE id = "
        ));
        qb.push_bind(id);
        scope::push_scope(&mut qb, scope, ORG);
        qb.push(MetaStore::backend(self).lock_rows());
        let before: Org = qb
            .build()
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let name = patch.name.unwrap_or_else(|| before.name.clone());
        let country = patch.country.unwrap_or_else(|| before.country.clone());
        let after: Org = query(format!(
            "UPDATE organisations SET name = $1, country = $2, updated_at = $3 WHERE id = $4 \
                     RETURNING {ORG_COLUMNS}"
        ))
        .bind(&name)
        .bind(&country)
        .bind(actor.at)
        .bind(id)
        .fetch_one(&mut tx)
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "update",
            "organisation",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.labels.forget_org(id);
        Ok(after)
    }

    async fn org_count(&self) -> StoreResult<i64> {
        Ok(query("SELECT COUNT(*) FROM organisations")
            .scalar(&self.pool)
            .await?)
    }
}
