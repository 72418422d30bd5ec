//! HSCAN, SSCAN and ZSCAN over a [`CollectionView`]: a collection's members a page at a
//! time, the cursor walking the committed member table (`collections::scan_cursor` has the
//! walk and why it keeps SCAN's guarantee). `api.rs` makes them methods.

use super::ValueType;
use super::view::CollectionView;
use super::zset::ScoredMember;
use crate::collections::scan_cursor::{self, Page};
use crate::collections::zset_index::ZsetIndex;
use crate::error::Result;

/// One page of a cursor scan over a collection's members ([`Store::hscan`],
/// [`Store::sscan`], [`Store::zscan`]): start with cursor 0 and pass each page's `cursor`
/// to the next call until it is 0 again.
///
/// What a full scan promises, as Redis's HSCAN, SSCAN and ZSCAN do:
/// - every member present from the first call to the last is returned at least once, and
///   a collection that does not change during the scan is returned exactly once;
/// - a member added or removed during the scan may or may not be returned, and removals
///   may make another member come twice;
/// - `count` is the page size (at least 1): pages hold at most `count` members, but a
///   collection of up to 128 members, or one this transaction has changed, comes whole in
///   one page with cursor 0;
/// - any cursor is accepted: one from a collection that changed or shrank since, or one
///   never handed out, gives a page and the scan still ends. Cursors do not survive a
///   reopen of the store (a scan started before it may miss members).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let store = keg::Store::open(dir.path())?;
/// let names: Vec<String> = (0..1000).map(|i| format!("user:{i}")).collect();
/// let members: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
/// store.sadd(b"visitors", &members)?;
/// let (mut cursor, mut seen) = (0, 0);
/// loop {
///     let page = store.sscan(b"visitors", cursor, 100)?;
///     assert!(page.items.len() <= 100);
///     seen += page.items.len();
///     cursor = page.cursor;
///     if cursor == 0 {
///         break;
///     }
/// }
/// assert_eq!(seen, 1000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Store::hscan`]: crate::Store::hscan
/// [`Store::sscan`]: crate::Store::sscan
/// [`Store::zscan`]: crate::Store::zscan
#[derive(Clone, Debug, PartialEq)]
pub struct CollectionPage<T> {
    /// The cursor of the next page; 0 when the scan is complete.
    pub cursor: u64,
    /// The members of this page (with their values or scores), in no particular order.
    pub items: Vec<T>,
}

impl<T> CollectionPage<T> {
    /// The last page: every member in `items`.
    fn whole(items: Vec<T>) -> CollectionPage<T> {
        CollectionPage { cursor: 0, items }
    }
}

/// HSCAN: fields with their values.
pub(crate) fn hscan(
    v: &dyn CollectionView,
    key: &[u8],
    cursor: u64,
    count: usize,
) -> Result<CollectionPage<(Vec<u8>, Vec<u8>)>> {
    let Some(found) = v.collection(key, ValueType::Hash)? else {
        return Ok(CollectionPage::whole(Vec::new()));
    };
    let page = names_page(v, key, found.generation, cursor, count);
    let mut items = Vec::with_capacity(page.items.len());
    for field in page.items {
        // A field deleted since the page was taken was removed during the scan: left out.
        if let Some(value) = v.value(key, found.generation, &field)? {
            items.push((field, value));
        }
    }
    Ok(CollectionPage {
        cursor: page.cursor,
        items,
    })
}

/// SSCAN.
pub(crate) fn sscan(
    v: &dyn CollectionView,
    key: &[u8],
    cursor: u64,
    count: usize,
) -> Result<CollectionPage<Vec<u8>>> {
    Ok(match v.collection(key, ValueType::Set)? {
        Some(found) => names_page(v, key, found.generation, cursor, count),
        None => CollectionPage::whole(Vec::new()),
    })
}

/// ZSCAN: members with their scores.
pub(crate) fn zscan(
    v: &dyn CollectionView,
    key: &[u8],
    cursor: u64,
    count: usize,
) -> Result<CollectionPage<ScoredMember>> {
    let Some(found) = v.collection(key, ValueType::ZSet)? else {
        return Ok(CollectionPage::whole(Vec::new()));
    };
    // A set this transaction changed is rebuilt for the read, its slots in another order
    // than the committed table the cursor walks: it comes whole.
    let walk = !v.changed_by_transaction(key, found.generation);
    let mut page = CollectionPage::whole(Vec::new());
    v.with_zset(key, found.generation, &mut |index| {
        page = zset_page(index, cursor, count, walk);
    });
    Ok(page)
}

/// A page of the hash fields or set members of generation `generation` at `key`.
fn names_page(
    v: &dyn CollectionView,
    key: &[u8],
    generation: u64,
    cursor: u64,
    count: usize,
) -> CollectionPage<Vec<u8>> {
    if v.changed_by_transaction(key, generation) {
        return CollectionPage::whole(v.members(key, generation));
    }
    let mut page = CollectionPage::whole(Vec::new());
    v.with_committed_names(key, generation, &mut |names| {
        page = match scan_cursor::page(names.len(), cursor, count) {
            // In insertion order, as Redis's small encoding answers.
            Page::Whole => CollectionPage::whole(names.iter().map(|m| m.to_vec()).collect()),
            Page::Slots { slots, next } => CollectionPage {
                cursor: next,
                items: slots
                    .filter_map(|slot| names.get_index(slot))
                    .map(|m| m.to_vec())
                    .collect(),
            },
        };
    });
    page
}

/// A page of a sorted set's members; the whole set, whatever the cursor, unless `walk`.
fn zset_page(
    index: &ZsetIndex,
    cursor: u64,
    count: usize,
    walk: bool,
) -> CollectionPage<ScoredMember> {
    let page = if walk {
        scan_cursor::page(index.len(), cursor, count)
    } else {
        Page::Whole
    };
    let owned = |(member, score): (&[u8], f64)| (member.to_vec(), score);
    match page {
        // In score order, as Redis's small encoding answers.
        Page::Whole => CollectionPage::whole(index.iter().map(owned).collect()),
        Page::Slots { slots, next } => CollectionPage {
            cursor: next,
            items: slots
                .filter_map(|slot| index.in_slot(slot))
                .map(owned)
                .collect(),
        },
    }
}
