//! Several short strings in one heap block. An import holds a million file rows and a
//! million account users at once; one block a record instead of four or five saves each
//! block's rounding and the pointers to them, about a third of the memory.

/// `BREAKS + 1` strings, kept end to end in one allocation. (The last part runs to the end
/// of the text, so it needs no end of its own: 4 bytes a record.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed<const BREAKS: usize> {
    text: Box<str>,
    /// Where each part but the last ends in `text`.
    ends: [u32; BREAKS],
}

impl<const BREAKS: usize> Packed<BREAKS> {
    /// Keeps `parts`; a part past `BREAKS + 1` is joined to the last.
    pub fn new(parts: &[&str]) -> Self {
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut ends = [0u32; BREAKS];
        for (i, part) in parts.iter().enumerate() {
            text.push_str(part);
            if let Some(end) = ends.get_mut(i) {
                // Records are a few hundred bytes at most; a saturated end gives an
                // empty part rather than a panic.
                *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
            }
        }
        // Parts that were not given are empty.
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        for end in ends.iter_mut().skip(parts.len()) {
            *end = len;
        }
        Self {
            text: text.into_boxed_str(),
            ends,
        }
    }

    /// The `i`th part; empty when there is none.
    pub fn get(&self, i: usize) -> &str {
        let start = match i.checked_sub(1) {
            None => 0,
            Some(before) => match self.ends.get(before) {
                Some(e) => *e as usize,
                None => return "",
            },
        };
        let end = self.ends.get(i).map_or(self.text.len(), |e| *e as usize);
        self.text.get(start..end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_back_as_given() {
        let p: Packed<4> = Packed::new(&["zoë@x.org", "", "Zoë", "Ó Briain", "E-1"]);
        let got: Vec<&str> = (0..5).map(|i| p.get(i)).collect();
        assert_eq!(got, ["zoë@x.org", "", "Zoë", "Ó Briain", "E-1"]);
        assert_eq!(p.get(5), "", "past the end");
        let short: Packed<2> = Packed::new(&["a"]);
        assert_eq!((short.get(0), short.get(1), short.get(2)), ("a", "", ""));
        let empty: Packed<1> = Packed::new(&["", ""]);
        assert_eq!((empty.get(0), empty.get(1)), ("", ""));
    }

    #[test]
    fn a_record_is_one_block_and_small() {
        // Five strings in 32 bytes and one block, where five boxes take 80 and five.
        assert_eq!(std::mem::size_of::<Packed<4>>(), 32);
    }
}
