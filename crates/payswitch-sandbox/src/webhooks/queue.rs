//! Bounded containers behind webhook delivery: [`Recent`] keeps the newest items by id (the
//! events a replay can resend) and [`ClockQueue`] holds items until a sandbox time (attempts
//! waiting for the gateway's retry schedule, old events waiting to be redelivered).

use std::collections::{BTreeMap, HashMap, VecDeque};

/// Items by id, the newest `capacity` of them; the oldest go first.
#[derive(Debug)]
pub(crate) struct Recent<T> {
    by_id: HashMap<String, T>,
    /// Ids oldest first; exactly the keys of `by_id`.
    order: VecDeque<String>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Self {
            by_id: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<T> Recent<T> {
    /// Keeps `item` under `id` (replacing one with that id in place), then forgets the oldest
    /// past `capacity` (at least 1).
    pub(crate) fn insert(&mut self, id: String, item: T, capacity: usize) {
        if self.by_id.insert(id.clone(), item).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > capacity.max(1) {
            if let Some(oldest) = self.order.pop_front() {
                self.by_id.remove(&oldest);
            }
        }
    }

    /// Returns the item with this id, if it is still kept.
    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.by_id.get(id)
    }

    /// Returns the items oldest first.
    pub(crate) fn oldest_first(&self) -> impl Iterator<Item = &T> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// How many items are kept.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}

/// Items waiting for a sandbox time, earliest first (ties in the order they were queued).
#[derive(Debug)]
pub(crate) struct ClockQueue<T> {
    entries: BTreeMap<(i64, u64), T>,
    /// Sequence number of the next item, so items due at the same second keep their order.
    next: u64,
}

impl<T> Default for ClockQueue<T> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<T> ClockQueue<T> {
    /// Queues `item` until sandbox time `due`.
    ///
    /// # Errors
    /// Gives the item back when `capacity` items are already waiting.
    pub(crate) fn push(&mut self, due: i64, item: T, capacity: usize) -> Result<(), T> {
        if self.entries.len() >= capacity {
            return Err(item);
        }
        self.entries.insert((due, self.next), item);
        self.next = self.next.wrapping_add(1);
        Ok(())
    }

    /// Removes and returns the items due at or before `now`, earliest first.
    pub(crate) fn take_due(&mut self, now: i64) -> Vec<T> {
        let later = match now.checked_add(1) {
            Some(next) => self.entries.split_off(&(next, 0)),
            None => BTreeMap::new(),
        };
        std::mem::replace(&mut self.entries, later)
            .into_values()
            .collect()
    }

    /// Returns the waiting items with their due times, earliest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, &T)> {
        self.entries.iter().map(|((due, _), item)| (*due, item))
    }

    /// How many items are waiting.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keeps_the_newest() {
        let mut recent = Recent::default();
        for (id, value) in [("a", 1), ("b", 2), ("c", 3), ("b", 20), ("d", 4)] {
            recent.insert(id.to_owned(), value, 3);
        }
        assert_eq!(recent.len(), 3);
        assert_eq!(recent.get("a"), None);
        assert_eq!(
            recent.oldest_first().copied().collect::<Vec<_>>(),
            [20, 3, 4]
        );
        recent.insert("e".to_owned(), 5, 0);
        assert_eq!(recent.oldest_first().copied().collect::<Vec<_>>(), [5]);
    }

    #[test]
    fn clock_queue_releases_what_is_due_in_order() {
        let mut queue = ClockQueue::default();
        for (due, item) in [(30, "c"), (10, "a"), (10, "b"), (i64::MAX, "never")] {
            queue.push(due, item, 10).expect("room");
        }
        assert_eq!(queue.take_due(5), Vec::<&str>::new());
        assert_eq!(queue.take_due(10), ["a", "b"]);
        assert_eq!(
            queue.iter().map(|(due, _)| due).collect::<Vec<_>>(),
            [30, i64::MAX]
        );
        assert_eq!(queue.take_due(i64::MAX), ["c", "never"]);
        assert_eq!(queue.len(), 0);
        queue.push(1, "x", 1).expect("room");
        assert_eq!(queue.push(1, "y", 1), Err("y"));
    }
}
