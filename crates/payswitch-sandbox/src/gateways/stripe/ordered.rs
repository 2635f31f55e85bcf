//! [`Ordered`]: objects by id that remember the order they were created in, for Stripe's
//! newest-first lists and for forgetting the oldest past a cap.

use std::collections::HashMap;

/// Objects by id, plus their ids in creation order.
#[derive(Debug)]
pub(crate) struct Ordered<V> {
    by_id: HashMap<String, V>,
    /// Ids oldest first; every id here is in `by_id` and the other way round.
    order: Vec<String>,
}

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Self {
            by_id: HashMap::new(),
            order: Vec::new(),
        }
    }
}

impl<V> Ordered<V> {
    /// Stores a new object; an id already present keeps its place and gets the new value.
    pub(crate) fn insert(&mut self, id: String, value: V) {
        if self.by_id.insert(id.clone(), value).is_none() {
            self.order.push(id);
        }
    }

    /// Returns the object with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&V> {
        self.by_id.get(id)
    }

    /// Returns the object with this id, to change it.
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut V> {
        self.by_id.get_mut(id)
    }

    /// Whether an object has this id.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Returns the objects newest first, as Stripe lists them.
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &V> {
        self.order.iter().rev().filter_map(|id| self.by_id.get(id))
    }

    /// Returns the objects oldest first.
    pub(crate) fn oldest_first(&self) -> impl Iterator<Item = &V> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// Forgets the oldest objects until at most `cap` remain.
    pub(crate) fn forget_past_cap(&mut self, cap: usize) {
        let excess = self.order.len().saturating_sub(cap);
        for id in self.order.drain(..excess) {
            self.by_id.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_creation_order_and_forgets_the_oldest() {
        let mut ordered = Ordered::default();
        for (id, value) in [("a", 1), ("b", 2), ("c", 3)] {
            ordered.insert(id.to_owned(), value);
        }
        ordered.insert("a".to_owned(), 10);
        assert_eq!(
            ordered.newest_first().copied().collect::<Vec<_>>(),
            [3, 2, 10]
        );
        ordered.forget_past_cap(2);
        assert_eq!(ordered.order, ["b", "c"]);
        assert!(!ordered.contains("a"));
        assert_eq!(ordered.by_id.len(), 2);
        ordered.forget_past_cap(5);
        assert_eq!(ordered.oldest_first().copied().collect::<Vec<_>>(), [2, 3]);
    }
}
