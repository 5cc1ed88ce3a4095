//! Coalescing a burst of triggers (a `docker compose up` is dozens of events, an editor's save
//! is several file events) into one re-run.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// How long the triggers must be quiet before a re-run, and the longest a burst may delay it.
#[derive(Debug, Clone, Copy)]
pub struct Settle {
    pub quiet: Duration,
    pub max: Duration,
}

impl Default for Settle {
    fn default() -> Self {
        // quiet: the gap between the events of one `docker stop` or one save is a few ms;
        // max: a long `up` still shows its progress every second.
        Settle {
            quiet: Duration::from_millis(60),
            max: Duration::from_secs(1),
        }
    }
}

/// After `first`, collects every trigger that arrives until `quiet` passes without one, or
/// `max` after `first`, whichever is sooner. A closed channel ends the burst.
pub async fn settle<T>(rx: &mut UnboundedReceiver<T>, first: T, s: Settle) -> Vec<T> {
    let start = Instant::now();
    let mut burst = vec![first];
    loop {
        let until = (Instant::now() + s.quiet).min(start + s.max);
        match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Some(t)) => burst.push(t),
            Ok(None) | Err(_) => return burst,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    const S: Settle = Settle {
        quiet: Duration::from_millis(60),
        max: Duration::from_secs(1),
    };

    #[tokio::test(start_paused = true)]
    async fn a_burst_becomes_one_batch_and_a_later_trigger_the_next() {
        let (tx, mut rx) = unbounded_channel();
        let feeder = tokio::spawn(async move {
            for i in 1..=4 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                tx.send(i).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            tx.send(9).unwrap();
        });
        let t0 = Instant::now();
        assert_eq!(settle(&mut rx, 0, S).await, [0, 1, 2, 3, 4]);
        // the last of the burst came at 80 ms, then 60 ms of quiet
        assert_eq!(t0.elapsed(), Duration::from_millis(140));
        let next = rx.recv().await.unwrap();
        assert_eq!(settle(&mut rx, next, S).await, [9]);
        feeder.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_endless_burst_is_cut_at_max() {
        let (tx, mut rx) = unbounded_channel();
        let feeder = tokio::spawn(async move {
            for i in 1..=100 {
                tokio::time::sleep(Duration::from_millis(30)).await;
                if tx.send(i).is_err() {
                    return;
                }
            }
        });
        let t0 = Instant::now();
        let burst = settle(&mut rx, 0, S).await;
        assert_eq!(t0.elapsed(), Duration::from_secs(1));
        assert_eq!(burst.len(), 34, "{burst:?}");
        drop(rx);
        feeder.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_trigger_waits_only_the_quiet_time() {
        let (_tx, mut rx) = unbounded_channel::<u8>();
        let t0 = Instant::now();
        assert_eq!(settle(&mut rx, 7, S).await, [7]);
        assert_eq!(t0.elapsed(), Duration::from_millis(60));
    }
}
