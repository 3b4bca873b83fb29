//! The shipped subword vectors, rebuilt from the floret table inside the PyPI wheel
//! `spacy-fi-experimental-web-md` (MIT): read the wheel as the zip it is, take
//! `vocab/vectors` (a NumPy array of 50,000 × 300 `float32`) and `vocab/vectors.cfg` (the
//! n-gram and hash settings), project every row on the table's first principal components,
//! scale each component to unit variance, and quantise each row to bytes with its own scale.
//! Deterministic: the same wheel gives the same bytes.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use linfa_linalg::eigh::EighInto;
use ndarray::{Array1, Array2, Axis};
use serde::Deserialize;

use crate::features::vectors::SubwordVectors;

/// floret's settings as `vectors.cfg` writes them.
#[derive(Deserialize)]
struct Settings {
    mode: String,
    minn: usize,
    maxn: usize,
    hash_count: usize,
    hash_seed: u32,
    bow: String,
    eow: String,
}

/// The floret table of the wheel at `path`, reduced to `dims` dimensions.
pub fn from_wheel(path: &Path, dims: usize) -> anyhow::Result<SubwordVectors> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut wheel = zip::ZipArchive::new(file)
        .with_context(|| format!("{}: not a wheel (zip) file", path.display()))?;
    let mut entry = |suffix: &str| -> anyhow::Result<Vec<u8>> {
        let name = wheel
            .file_names()
            .filter_map(Result::ok)
            .find(|n| n.ends_with(suffix))
            .map(|n| n.into_owned())
            .with_context(|| format!("{}: no file ending in {suffix}", path.display()))?;
        let mut bytes = Vec::new();
        wheel.by_name(&name)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let settings: Settings =
        serde_json::from_slice(&entry("vocab/vectors.cfg")?).context("vocab/vectors.cfg")?;
    anyhow::ensure!(
        settings.mode == "floret" && settings.bow == "<" && settings.eow == ">",
        "vocab/vectors.cfg: not floret vectors with < and > around words"
    );
    let table = npy_f32(&entry("vocab/vectors")?).context("vocab/vectors")?;
    anyhow::ensure!(
        dims <= table.ncols(),
        "cannot keep {dims} of {} dimensions",
        table.ncols()
    );
    if dims == 0 {
        return Ok(SubwordVectors {
            minn: settings.minn,
            maxn: settings.maxn,
            hash_count: settings.hash_count,
            seed: settings.hash_seed,
            dims,
            data: Vec::new(),
            scales: Vec::new(),
        });
    }
    let reduced = principal_components(&table, dims)?;
    let (mut data, mut scales) = (Vec::with_capacity(reduced.len()), Vec::new());
    for row in reduced.rows() {
        let max = row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(scale as f32);
        data.extend(
            row.iter()
                .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8),
        );
    }
    let vectors = SubwordVectors {
        minn: settings.minn,
        maxn: settings.maxn,
        hash_count: settings.hash_count,
        seed: settings.hash_seed,
        dims,
        data,
        scales,
    };
    vectors.check().map_err(|e| anyhow::anyhow!(e))?;
    Ok(vectors)
}

/// A two-dimensional little-endian `float32` array in NumPy's `.npy` format.
fn npy_f32(bytes: &[u8]) -> anyhow::Result<Array2<f32>> {
    anyhow::ensure!(
        bytes.starts_with(b"\x93NUMPY") && bytes.len() > 10,
        "not a .npy file"
    );
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(bytes.get(start..start + header_len).unwrap_or_default())?;
    anyhow::ensure!(
        header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"),
        "not a C-ordered little-endian float32 array: {header}"
    );
    let shape: Vec<usize> = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .context("no shape")?
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let [rows, cols] = shape[..] else {
        anyhow::bail!("not two-dimensional: {shape:?}")
    };
    let data = &bytes[start + header_len..];
    anyhow::ensure!(
        data.len() == rows * cols * 4,
        "{} bytes for {rows} × {cols}",
        data.len()
    );
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Array2::from_shape_vec((rows, cols), values)?)
}

/// The rows projected on the `dims` leading principal components, each scaled to unit variance.
/// A component's sign is fixed so that its largest coefficient is positive.
fn principal_components(table: &Array2<f32>, dims: usize) -> anyhow::Result<Array2<f64>> {
    let x = table.mapv(f64::from);
    let mean = x.mean_axis(Axis(0)).context("an empty table")?;
    let centred = &x - &mean;
    let covariance = centred.t().dot(&centred) / x.nrows() as f64;
    let (values, vectors) = covariance.eigh_into()?;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let mut projection = Array2::<f64>::zeros((x.ncols(), dims));
    for (k, &i) in order.iter().take(dims).enumerate() {
        let mut column: Array1<f64> = vectors.column(i).to_owned();
        let largest = column
            .iter()
            .fold(0.0f64, |m, v| if v.abs() > m.abs() { *v } else { m });
        if largest < 0.0 {
            column.mapv_inplace(|v| -v);
        }
        column /= values[i].max(f64::EPSILON).sqrt();
        projection.column_mut(k).assign(&column);
    }
    Ok(centred.dot(&projection))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(rows: usize, cols: usize, values: &[f32]) -> Vec<u8> {
        let header =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        values
            .iter()
            .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
        bytes
    }

    #[test]
    fn reads_a_numpy_array() {
        let a = npy_f32(&npy(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).expect("array");
        assert_eq!(a.shape(), &[2, 3]);
        assert_eq!(a[[1, 2]], 6.0);
        assert!(npy_f32(b"not numpy").is_err());
        assert!(npy_f32(&npy(2, 3, &[1.0])).is_err(), "too few values");
    }

    #[test]
    fn the_first_component_carries_the_spread() {
        // Points along the line y = 2x, with a little noise in z.
        let values: Vec<f32> = (0..50)
            .flat_map(|i| {
                let t = i as f32 - 25.0;
                [t, 2.0 * t, if i % 2 == 0 { 0.1 } else { -0.1 }]
            })
            .collect();
        let table = Array2::from_shape_vec((50, 3), values).expect("shape");
        let reduced = principal_components(&table, 2).expect("pca");
        let var = |k: usize| reduced.column(k).mapv(|v| v * v).mean().unwrap_or(0.0);
        assert!(
            (var(0) - 1.0).abs() < 1e-6 && (var(1) - 1.0).abs() < 1e-6,
            "unit variance"
        );
        // The first component follows t: monotone along the rows.
        let first = reduced.column(0);
        assert!(first[0] < first[49], "{first:?}");
    }
}
