//! Subword word vectors: every word, seen in training or not, gets a vector from its character
//! n-grams, so an unseen inflection or compound (`kusipäisyys`, `idioottimaisimmat`) lands near
//! the words it is made of.
//!
//! The table is floret's (the Finnish vectors of the MIT-licensed `spacy-fi-experimental-web-md`
//! wheel): a word's vector is the mean of the rows its n-grams hash to, each n-gram of `<word>`
//! of `minn..=maxn` characters and the whole `<word>` hashed with MurmurHash3 (x64, 128 bits) and
//! split into `hash_count` 32-bit row numbers, as floret and spaCy compute it. `seula train
//! --floret-wheel` reduces the table's 300 dimensions to a few by PCA and quantises each row to
//! bytes; this module only reads that table.

use serde::{Deserialize, Serialize};

/// The reduced, quantised floret table, as stored in `models/vectors.bin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubwordVectors {
    pub minn: usize,
    pub maxn: usize,
    pub hash_count: usize,
    pub seed: u32,
    pub dims: usize,
    /// Rows × dims; row `r` is `data[r·dims..]` times `scales[r]`.
    pub data: Vec<i8>,
    pub scales: Vec<f32>,
}

impl SubwordVectors {
    /// Whether the table is whole. A table of no dimensions is allowed: its words add nothing
    /// (a model trained without subword vectors).
    pub fn check(&self) -> Result<(), String> {
        let ok = (self.dims == 0 || !self.scales.is_empty())
            && self.data.len() == self.scales.len() * self.dims
            && (1..=4).contains(&self.hash_count)
            && 0 < self.minn
            && self.minn <= self.maxn;
        ok.then_some(()).ok_or_else(|| {
            format!(
                "{} rows of {} values, {} scales, n-grams {}..={}, {} hashes: not a vector table",
                self.data.len() / self.dims.max(1),
                self.dims,
                self.scales.len(),
                self.minn,
                self.maxn,
                self.hash_count
            )
        })
    }

    /// Adds the word's vector (the mean of its n-grams' rows) to `out`, scaled to unit length.
    /// A word with no rows adds nothing.
    pub fn add_word(&self, word: &str, out: &mut [f32], scratch: &mut Scratch) {
        if self.dims == 0 || self.scales.is_empty() {
            return;
        }
        let Scratch {
            padded,
            bounds,
            sum,
        } = scratch;
        padded.clear();
        padded.push('<');
        padded.push_str(word);
        padded.push('>');
        bounds.clear();
        bounds.extend(padded.char_indices().map(|(i, _)| i));
        bounds.push(padded.len());
        let chars = bounds.len() - 1;
        sum.clear();
        sum.resize(self.dims, 0.0);
        let mut count = 0usize;
        let mut add = |gram: &[u8]| {
            let hash = fastmurmur3::murmur3_x64_128(gram, u64::from(self.seed));
            let (low, high) = (hash as u64, (hash >> 64) as u64);
            let parts = [low & 0xffff_ffff, low >> 32, high & 0xffff_ffff, high >> 32];
            for part in &parts[..self.hash_count] {
                let row = (*part % self.scales.len() as u64) as usize;
                let scale = self.scales[row];
                let values = &self.data[row * self.dims..(row + 1) * self.dims];
                sum.iter_mut()
                    .zip(values)
                    .for_each(|(s, v)| *s += scale * f32::from(*v));
                count += 1;
            }
        };
        let bytes = padded.as_bytes();
        add(bytes);
        for n in self.minn..=self.maxn.min(chars) {
            for start in 0..=chars - n {
                add(&bytes[bounds[start]..bounds[start + n]]);
            }
        }
        let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
        if count > 0 && norm > 0.0 {
            out.iter_mut()
                .zip(sum.iter())
                .for_each(|(o, s)| *o += s / norm);
        }
    }
}

/// Buffers [`SubwordVectors::add_word`] reuses from word to word.
#[derive(Debug, Default)]
pub struct Scratch {
    padded: String,
    bounds: Vec<usize>,
    sum: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table where row r is r in its first dimension and 1 in its second.
    fn table(rows: usize) -> SubwordVectors {
        SubwordVectors {
            minn: 4,
            maxn: 5,
            hash_count: 2,
            seed: 2_166_136_261,
            dims: 2,
            data: (0..rows).flat_map(|r| [(r % 100) as i8, 1]).collect(),
            scales: vec![1.0; rows],
        }
    }

    /// The row numbers spaCy's `Vectors._get_ngram_hashes` gives under the floret settings of
    /// `spacy-fi-experimental-web-md` 0.15.0 (seed 2166136261, two hashes), computed with spaCy
    /// 3.8 for the first three n-grams of each word.
    #[test]
    fn hashes_n_grams_as_spacy_does() {
        let cases: [(&str, [u32; 2]); 4] = [
            ("<kissa>", [363_173_010, 202_119_653]),
            ("<kis", [2_243_023_227, 2_855_152_622]),
            ("kiss", [4_082_421_679, 669_669_312]),
            ("<idiootti>", [1_982_940_932, 3_708_106_856]),
        ];
        for (gram, want) in cases {
            let hash = fastmurmur3::murmur3_x64_128(gram.as_bytes(), 2_166_136_261);
            let low = hash as u64;
            assert_eq!([low as u32, (low >> 32) as u32], want, "{gram}");
        }
    }

    #[test]
    fn a_word_is_the_unit_mean_of_its_n_grams() {
        let t = table(50_000);
        let mut out = vec![0.0; 2];
        t.add_word("kissa", &mut out, &mut Scratch::default());
        let norm = (out[0] * out[0] + out[1] * out[1]).sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{out:?}");
        // `<kissa>` has one whole key, four 4-grams and three 5-grams: eight n-grams, sixteen rows.
        let mut short = vec![0.0; 2];
        t.add_word("ä", &mut short, &mut Scratch::default());
        assert!(
            short[1] > 0.0,
            "a word shorter than minn still has its whole key: {short:?}"
        );
    }

    #[test]
    fn a_bad_table_is_refused() {
        let mut t = table(10);
        t.data.pop();
        assert!(t.check().is_err());
        assert!(table(10).check().is_ok());
    }
}
