//! Deterministic data parallelism for the analyses: independent, individually seeded tasks run on
//! the machine's cores and their results come back in input order, so the output never depends
//! on the number of threads or on which thread ran what.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Worker threads used by [`map`]: the machine's available parallelism (at least 1).
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `items.iter().map(f).collect()`, computed on up to [`threads`] scoped threads that take the
/// next unclaimed item until none is left. The result is in the order of `items`.
///
/// ```
/// let squares = customer_intel::par::map(&[1, 2, 3, 4], |x| x * x);
/// assert_eq!(squares, vec![1, 4, 9, 16]);
/// ```
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = threads().min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a parallel task panicked"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Runs `a` and `b` at the same time (on two threads when the machine has more than one core)
/// and returns both results.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if threads() <= 1 {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let h = s.spawn(a);
        let rb = b();
        (h.join().expect("a parallel task panicked"), rb)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_input_order_whatever_the_timing() {
        // Later items finish first; the order must still be the input's.
        let items: Vec<u64> = (0..40).collect();
        let out = map(&items, |&i| {
            std::thread::sleep(std::time::Duration::from_micros(40 * (40 - i)));
            i * 3
        });
        assert_eq!(out, items.iter().map(|i| i * 3).collect::<Vec<_>>());
        assert!(map(&[] as &[u8], |x| *x).is_empty());
    }

    #[test]
    fn join_returns_both_results() {
        assert_eq!(join(|| 2 + 2, || "b"), (4, "b"));
    }
}
