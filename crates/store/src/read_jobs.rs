//! Webhook reads (`read_items` jobs) coalesced per account: the products a notification names
//! join the account's read that is still waiting instead of making a job per notification, so
//! a replayed or repeated notification costs no POS call more. `merge_refs` is the decision,
//! `Store::request_read` the transaction around it.

use crate::tasks::{NewJob, insert_task, lock_jobs};
use crate::{Result, Store, begin_write, dispatch, locks_rows, retry_conflicts};
use chrono::{DateTime, SubsecRound, Utc};
use stocksync_domain::task::TaskKind;
use stocksync_domain::{AccountId, PosRef};

/// What became of a request to read some products of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadRequest {
    /// A new `read_items` job.
    Enqueued,
    /// Added to the account's waiting job (which had some of them, or none).
    Joined,
    /// The account's waiting job already names every one of them.
    AlreadyWaiting,
    /// No product was named and none waits: nothing to do.
    Nothing,
    /// More products than `cap` would be read one by one: the caller reads the whole account
    /// instead. Nothing was written.
    OverCap,
}

/// What the waiting read (or a new one, when `waiting` is empty) should name once `new` joins it.
#[derive(Debug, PartialEq, Eq)]
enum Merge {
    /// Every product of `new` is in it already.
    Unchanged,
    /// These products, in the order they were first named.
    Read(Vec<PosRef>),
    /// More than the cap.
    OverCap,
}

fn merge_refs(waiting: &[PosRef], new: &[PosRef], cap: usize) -> Merge {
    let mut merged = waiting.to_vec();
    for pos_ref in new {
        if !merged.contains(pos_ref) {
            merged.push(pos_ref.clone());
        }
    }
    if merged.len() == waiting.len() {
        Merge::Unchanged
    } else if merged.len() > cap {
        Merge::OverCap
    } else {
        Merge::Read(merged)
    }
}

impl Store {
    /// Asks for `refs` of `account` to be read by a `read_items` job: joined to the account's
    /// job still waiting to start (`enqueued`), if there is one, else a new job; `OverCap` when
    /// the job would name more than `cap` products. One transaction, under the jobs lock, so
    /// that two notifications at once never make two jobs nor lose a product.
    pub async fn request_read(
        &self,
        account: &AccountId,
        refs: &[PosRef],
        cap: usize,
        at: DateTime<Utc>,
    ) -> Result<ReadRequest> {
        retry_conflicts(|| self.request_read_once(account, refs, cap, at)).await
    }

    async fn request_read_once(
        &self,
        account: &AccountId,
        refs: &[PosRef],
        cap: usize,
        at: DateTime<Utc>,
    ) -> Result<ReadRequest> {
        let at = at.trunc_subsecs(6);
        let kind = TaskKind::ReadItems.as_str();
        dispatch!(self, pool => {
            let mut tx = begin_write!(pool).await?;
            lock_jobs!(pool, tx);
            let waiting: Option<(String, Option<String>)> = sqlx::query_as(
                "SELECT id, payload FROM stocksync_tasks WHERE kind = ? AND account_id = ? \
                 AND state = 'enqueued' ORDER BY created_at LIMIT 1",
            )
            .bind(kind)
            .bind(account.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let (id, before) = match waiting {
                Some((id, payload)) => {
                    let before: Vec<PosRef> = payload
                        .as_deref()
                        .and_then(|p| serde_json::from_str(p).ok())
                        .unwrap_or_default();
                    (Some(id), before)
                }
                None => (None, Vec::new()),
            };
            let outcome = match (merge_refs(&before, refs, cap), id) {
                (Merge::Unchanged, Some(_)) => ReadRequest::AlreadyWaiting,
                (Merge::OverCap, _) => ReadRequest::OverCap,
                (Merge::Read(merged), Some(id)) => {
                    sqlx::query("UPDATE stocksync_tasks SET payload = ? WHERE id = ? AND state = 'enqueued'")
                        .bind(payload(&merged))
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                    ReadRequest::Joined
                }
                (Merge::Read(refs), None) => {
                    let id = uuid::Uuid::new_v4().to_string();
                    let payload = payload(&refs);
                    let job = NewJob {
                        payload: Some(&payload),
                        ..NewJob::new(TaskKind::ReadItems, account)
                    };
                    insert_task!(tx, job, &id, at)?;
                    ReadRequest::Enqueued
                }
                (Merge::Unchanged, None) => ReadRequest::Nothing,
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }
}

fn payload(refs: &[PosRef]) -> String {
    serde_json::to_string(refs).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::{Merge, merge_refs};
    use stocksync_domain::PosRef;

    fn refs(names: &[&str]) -> Vec<PosRef> {
        names.iter().map(|n| PosRef::new(*n)).collect()
    }

    #[test]
    fn new_products_join_in_order_and_known_ones_change_nothing() {
        assert_eq!(
            merge_refs(&refs(&["1", "2"]), &refs(&["2", "3"]), 10),
            Merge::Read(refs(&["1", "2", "3"]))
        );
        assert_eq!(
            merge_refs(&refs(&["1", "2"]), &refs(&["2", "1"]), 10),
            Merge::Unchanged
        );
        assert_eq!(merge_refs(&[], &refs(&["1"]), 1), Merge::Read(refs(&["1"])));
    }

    #[test]
    fn past_the_cap_the_whole_account_is_read_instead() {
        assert_eq!(
            merge_refs(&refs(&["1"]), &refs(&["2", "3"]), 2),
            Merge::OverCap
        );
        assert_eq!(merge_refs(&[], &refs(&["1", "2", "3"]), 2), Merge::OverCap);
    }
}
