//! A pane: the partial states of every group key whose events fell in one
//! aligned slice of event time. Tumbling and hopping views keep one state
//! per key; session views keep *fragments* per key (sessions cut at the
//! pane's grid cell), each with its first and last event time.

use smallvec::SmallVec;

use crate::keys::KeyIndex;
use crate::measure::{Column, Measure};

/// Session fragments of one cell. Per key, fragments are sorted by first
/// event and separated by at least the gap, so an event or a merged
/// fragment joins a contiguous run of them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fragments {
    /// Live fragment ids of each key id, sorted by first event time.
    by_key: Vec<SmallVec<[u32; 1]>>,
    pub(crate) first: Vec<i64>,
    pub(crate) last: Vec<i64>,
    pub(crate) key: Vec<u32>,
    pub(crate) live: Vec<bool>,
    dead: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Pane {
    pub(crate) keys: KeyIndex,
    /// `Some` for session views.
    pub(crate) fragments: Option<Fragments>,
    /// One column per state-owning measure (`ViewDef::states`), indexed by
    /// key id (or fragment id).
    pub(crate) columns: Vec<Column>,
}

impl Pane {
    pub(crate) fn new(states: &[Measure], session: bool) -> Pane {
        Pane::with_capacity(states, session, 0)
    }

    /// A pane with room for `keys` keys and their states.
    pub(crate) fn with_capacity(states: &[Measure], session: bool, keys: usize) -> Pane {
        Pane {
            keys: KeyIndex::with_capacity(keys),
            fragments: session.then(Fragments::default),
            columns: states
                .iter()
                .map(|m| {
                    let mut c = m.new_column();
                    c.reserve(keys);
                    c
                })
                .collect(),
        }
    }

    /// The key id of `key`, adding the key (and, without sessions, its
    /// empty states) when new.
    #[inline]
    pub(crate) fn key_id(&mut self, hash: u64, key: &[u8], states: &[Measure]) -> u32 {
        let (id, added) = self.keys.find_or_insert(hash, key);
        if added {
            match &mut self.fragments {
                Some(f) => f.by_key.push(SmallVec::new()),
                None => {
                    for (c, m) in self.columns.iter_mut().zip(states) {
                        c.push_empty(m);
                    }
                }
            }
        }
        id
    }

    /// Places events spanning `[first, last]` of key `key` in this cell and
    /// returns the fragment that now holds them: an existing fragment within
    /// `gap` of them, several of them joined (the span bridges them), or a
    /// new one.
    pub(crate) fn place(
        &mut self,
        key: u32,
        first: i64,
        last: i64,
        gap: i64,
        states: &[Measure],
    ) -> u32 {
        let f = self.fragments.as_mut().expect("place is for session panes");
        let list = &f.by_key[key as usize];
        // Fragments are disjoint and sorted, so both bounds are monotone.
        let lo = list.partition_point(|&id| f.last[id as usize] <= first - gap);
        let hi = list.partition_point(|&id| f.first[id as usize] < last + gap);
        if lo >= hi {
            let id = f.first.len() as u32;
            f.first.push(first);
            f.last.push(last);
            f.key.push(key);
            f.live.push(true);
            f.by_key[key as usize].insert(lo, id);
            for (c, m) in self.columns.iter_mut().zip(states) {
                c.push_empty(m);
            }
            return id;
        }
        let target = list[lo];
        let joined: SmallVec<[u32; 2]> = list[lo + 1..hi].iter().copied().collect();
        let t = target as usize;
        f.first[t] = f.first[t].min(first);
        f.last[t] = f.last[t].max(last);
        for &other in &joined {
            let o = other as usize;
            f.first[t] = f.first[t].min(f.first[o]);
            f.last[t] = f.last[t].max(f.last[o]);
            f.live[o] = false;
            f.dead += 1;
            for (c, m) in self.columns.iter_mut().zip(states) {
                c.absorb(t, o, m);
            }
        }
        if !joined.is_empty() {
            f.by_key[key as usize].drain(lo + 1..hi);
        }
        target
    }

    /// Live entries as `(entry, key id, first, last)`; without sessions the
    /// entry is the key id and the times are unused (0).
    pub(crate) fn entries(&self) -> Vec<(u32, u32, i64, i64)> {
        match &self.fragments {
            None => (0..self.keys.len() as u32).map(|k| (k, k, 0, 0)).collect(),
            Some(f) => (0..f.first.len())
                .filter(|&i| f.live[i])
                .map(|i| (i as u32, f.key[i], f.first[i], f.last[i]))
                .collect(),
        }
    }

    /// Number of live states (keys, or live fragments).
    pub(crate) fn live_len(&self) -> usize {
        match &self.fragments {
            None => self.keys.len(),
            Some(f) => f.first.len() - f.dead,
        }
    }

    /// Merges every state of `other` (a pane of the same view and start).
    pub(crate) fn merge(&mut self, other: &Pane, gap: i64, states: &[Measure]) {
        for (entry, key, first, last) in other.entries() {
            let id = self.key_id(other.keys.hash_of(key), other.keys.key(key), states);
            let target = match self.fragments {
                Some(_) => self.place(id, first, last, gap, states),
                None => id,
            };
            for (m, (c, oc)) in states
                .iter()
                .zip(self.columns.iter_mut().zip(&other.columns))
            {
                c.merge_entry(target as usize, oc, entry as usize, m);
            }
        }
    }

    /// Approximate bytes held by keys and states.
    pub(crate) fn approx_bytes(&self) -> usize {
        let frag = self
            .fragments
            .as_ref()
            .map_or(0, |f| f.first.capacity() * 25 + f.by_key.capacity() * 24);
        self.keys.approx_bytes()
            + frag
            + self.columns.iter().map(Column::approx_bytes).sum::<usize>()
    }
}
