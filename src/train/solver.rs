//! L2-regularised logistic regression over sparse rows, fitted with argmin's L-BFGS.
//!
//! One solver for every fit of `seula train`: the heads over a few hundred thousand hashed text
//! features (binary, or multinomial for sentiment), and the small calibration maps on top of
//! them. It minimises `C · Σ wᵢ · loss(xᵢ, yᵢ) + ½ ‖θ‖²` (the intercepts unpenalised), as
//! LIBLINEAR and scikit-learn do, over rows stored as a compressed sparse matrix, so training
//! costs time in proportion to the features present, not to the width of the model. No
//! randomness: the same rows give the same weights.

use std::sync::{Arc, Mutex};

use argmin::core::{CostFunction, Error, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

/// Rows of (column, value) pairs, compressed: row `r` is `entries[starts[r]..starts[r + 1]]`.
#[derive(Debug, Clone)]
pub struct Rows {
    width: usize,
    starts: Vec<usize>,
    entries: Vec<(u32, f32)>,
}

impl Rows {
    pub fn new(width: usize) -> Self {
        Self {
            width,
            starts: vec![0],
            entries: Vec::new(),
        }
    }

    /// Adds a row; columns may repeat (their values add up) and must be below the width.
    pub fn push(&mut self, entries: impl IntoIterator<Item = (u32, f32)>) {
        self.entries.extend(entries);
        debug_assert!(self.entries.iter().all(|(c, _)| (*c as usize) < self.width));
        self.starts.push(self.entries.len());
    }

    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn row(&self, r: usize) -> &[(u32, f32)] {
        &self.entries[self.starts[r]..self.starts[r + 1]]
    }
}

/// What to fit: labels in `0..classes` (two classes give one logit, the second class's), one
/// weight per row.
pub struct Problem<'a> {
    pub rows: &'a Rows,
    pub labels: &'a [usize],
    pub weights: &'a [f64],
    pub classes: usize,
    /// Inverse regularisation strength, as LIBLINEAR's `C`.
    pub c: f64,
}

/// The problem with its last cost and gradient kept (the line search asks for both at the same
/// point, and one pass over the rows gives both), the best point seen, and a budget of passes:
/// argmin's line search has no bound of its own, so a pass past the budget ends the fit, with
/// the best point seen.
struct Cached<'a> {
    problem: Problem<'a>,
    state: Arc<Mutex<Evaluations>>,
    budget: u64,
}

#[derive(Default)]
struct Evaluations {
    last: Option<(Vec<f64>, f64, Vec<f64>)>,
    best: Option<(f64, Vec<f64>)>,
    passes: u64,
}

/// The error a pass past the budget gives, told apart from the problem's own errors.
const OUT_OF_BUDGET: &str = "out of passes";

/// A fitted model: `weights` is columns × outputs, row-major, then one intercept per output.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub outputs: usize,
    pub weights: Vec<f64>,
    pub intercept: Vec<f64>,
}

impl Fitted {
    /// The raw outputs (logits) for one row.
    pub fn logits(&self, row: &[(u32, f32)]) -> Vec<f64> {
        let mut z = self.intercept.clone();
        for &(c, v) in row {
            let w = &self.weights[c as usize * self.outputs..(c as usize + 1) * self.outputs];
            z.iter_mut()
                .zip(w)
                .for_each(|(z, w)| *z += f64::from(v) * w);
        }
        z
    }
}

impl Problem<'_> {
    fn outputs(&self) -> usize {
        if self.classes == 2 { 1 } else { self.classes }
    }

    /// The loss of every row and its derivative by each output, at `theta`.
    fn walk(&self, theta: &[f64], mut each: impl FnMut(usize, f64, &[f64])) {
        let k = self.outputs();
        let intercept = &theta[self.rows.width() * k..];
        let (mut z, mut d) = (vec![0.0; k], vec![0.0; k]);
        for r in 0..self.rows.len() {
            z.copy_from_slice(intercept);
            for &(c, v) in self.rows.row(r) {
                let w = &theta[c as usize * k..(c as usize + 1) * k];
                z.iter_mut()
                    .zip(w)
                    .for_each(|(z, w)| *z += f64::from(v) * w);
            }
            let y = self.labels[r];
            let loss = if k == 1 {
                // log(1 + e^z) - y z, and its derivative sigmoid(z) - y.
                let yes = (y == 1) as u8 as f64;
                d[0] = sigmoid(z[0]) - yes;
                softplus(z[0]) - yes * z[0]
            } else {
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                for (j, d) in d.iter_mut().enumerate() {
                    *d = (z[j] - max).exp() / sum - (j == y) as u8 as f64;
                }
                max + sum.ln() - z[y]
            };
            each(r, loss, &d);
        }
    }

    fn penalty_width(&self) -> usize {
        self.rows.width() * self.outputs()
    }
}

impl Problem<'_> {
    /// The cost and its gradient at `theta`, in one pass over the rows.
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let k = self.outputs();
        let width = self.penalty_width();
        let mut g: Vec<f64> = theta[..width].to_vec();
        g.resize(theta.len(), 0.0);
        let mut total = 0.0;
        self.walk(theta, |r, loss, d| {
            total += self.weights[r] * loss;
            let scale = self.c * self.weights[r];
            for &(c, v) in self.rows.row(r) {
                let at = c as usize * k;
                for j in 0..k {
                    g[at + j] += scale * f64::from(v) * d[j];
                }
            }
            for j in 0..k {
                g[width + j] += scale * d[j];
            }
        });
        let penalty: f64 = theta[..width].iter().map(|t| t * t).sum();
        (self.c * total + 0.5 * penalty, g)
    }
}

impl Cached<'_> {
    /// The cost and gradient at `theta`. A cost that is not finite, or a pass past the budget,
    /// is an error: the line search would otherwise look for a step forever.
    fn at(&self, theta: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, cost, gradient)) = state.last.as_ref()
            && at.as_slice() == theta
        {
            return Ok((*cost, gradient.clone()));
        }
        if state.passes >= self.budget {
            return Err(Error::msg(OUT_OF_BUDGET));
        }
        state.passes += 1;
        let (cost, gradient) = self.problem.evaluate(theta);
        if !cost.is_finite() {
            return Err(Error::msg(format!("the cost is {cost}")));
        }
        if state.best.as_ref().is_none_or(|(best, _)| cost < *best) {
            state.best = Some((cost, theta.to_vec()));
        }
        state.last = Some((theta.to_vec(), cost, gradient.clone()));
        Ok((cost, gradient))
    }
}

impl CostFunction for Cached<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Self::Param) -> Result<f64, Error> {
        Ok(self.at(theta)?.0)
    }
}

impl Gradient for Cached<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Self::Param) -> Result<Vec<f64>, Error> {
        Ok(self.at(theta)?.1)
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// Fits the problem with L-BFGS (ten corrections, More-Thuente line search) from zero, for at
/// most `iterations` steps (and 20 passes over the rows a step) or until the gradient or the
/// cost stops moving; the best point seen.
pub fn fit(problem: Problem, iterations: u64) -> anyhow::Result<Fitted> {
    anyhow::ensure!(
        problem.labels.len() == problem.rows.len() && problem.weights.len() == problem.rows.len(),
        "{} rows, {} labels, {} weights",
        problem.rows.len(),
        problem.labels.len(),
        problem.weights.len()
    );
    anyhow::ensure!(
        problem.labels.iter().all(|&y| y < problem.classes),
        "a label is not below {}",
        problem.classes
    );
    anyhow::ensure!(
        problem.rows.entries.iter().all(|(_, v)| v.is_finite()),
        "a feature value is not finite"
    );
    let outputs = problem.outputs();
    let width = problem.rows.width() * outputs;
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-5)?
        .with_tolerance_cost(1e-10)?;
    let state = Arc::new(Mutex::new(Evaluations::default()));
    let cached = Cached {
        problem,
        state: Arc::clone(&state),
        budget: 20 * iterations + 20,
    };
    let result = Executor::new(cached, solver)
        .configure(|state| {
            state
                .param(vec![0.0; width + outputs])
                .max_iters(iterations)
        })
        .run();
    if let Err(e) = result
        && e.to_string() != OUT_OF_BUDGET
    {
        return Err(e);
    }
    let theta = state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .best
        .take()
        .map(|(_, theta)| theta)
        .ok_or_else(|| anyhow::anyhow!("L-BFGS evaluated nothing"))?;
    Ok(Fitted {
        outputs,
        weights: theta[..width].to_vec(),
        intercept: theta[width..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column 0 says yes, column 1 says no, column 2 is noise on every row.
    fn separable() -> (Rows, Vec<usize>) {
        let mut rows = Rows::new(3);
        let mut labels = Vec::new();
        for i in 0..40 {
            let yes = i % 2 == 0;
            rows.push([(if yes { 0 } else { 1 }, 1.0), (2, 0.5)]);
            labels.push(usize::from(yes));
        }
        (rows, labels)
    }

    #[test]
    fn learns_a_separable_binary_problem() {
        let (rows, labels) = separable();
        let fitted = fit(
            Problem {
                rows: &rows,
                labels: &labels,
                weights: &vec![1.0; labels.len()],
                classes: 2,
                c: 1.0,
            },
            100,
        )
        .expect("fits");
        assert_eq!(fitted.outputs, 1);
        assert!(fitted.logits(&[(0, 1.0)])[0] > 1.0, "{fitted:?}");
        assert!(fitted.logits(&[(1, 1.0)])[0] < -1.0, "{fitted:?}");
    }

    #[test]
    fn a_stronger_penalty_gives_smaller_weights() {
        let (rows, labels) = separable();
        let norm = |c| {
            let f = fit(
                Problem {
                    rows: &rows,
                    labels: &labels,
                    weights: &vec![1.0; labels.len()],
                    classes: 2,
                    c,
                },
                100,
            )
            .expect("fits");
            f.weights.iter().map(|w| w * w).sum::<f64>()
        };
        assert!(norm(0.01) < norm(1.0));
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (rows, labels) = separable();
        let weights: Vec<f64> = (0..labels.len()).map(|i| 1.0 + (i % 3) as f64).collect();
        let labels3: Vec<usize> = (0..labels.len()).map(|i| i % 3).collect();
        for (labels, classes) in [(&labels, 2), (&labels3, 3)] {
            let p = Problem {
                rows: &rows,
                labels,
                weights: &weights,
                classes,
                c: 0.7,
            };
            let n = 3 * p.outputs() + p.outputs();
            let theta: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 - 0.3).collect();
            let g = p.evaluate(&theta).1;
            for i in 0..n {
                let mut up = theta.clone();
                up[i] += 1e-6;
                let mut down = theta.clone();
                down[i] -= 1e-6;
                let numeric = (p.evaluate(&up).0 - p.evaluate(&down).0) / 2e-6;
                assert!(
                    (numeric - g[i]).abs() < 1e-4,
                    "{classes} classes, {i}: {numeric} vs {}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn row_weights_count_like_repeated_rows() {
        let mut rows = Rows::new(1);
        rows.push([(0, 1.0)]);
        rows.push([(0, 1.0)]);
        let fit_with = |labels: &[usize], weights: &[f64]| {
            fit(
                Problem {
                    rows: &rows,
                    labels,
                    weights,
                    classes: 2,
                    c: 1.0,
                },
                100,
            )
            .expect("fits")
            .logits(&[(0, 1.0)])[0]
        };
        // One yes weighted 3 against one no: as if three yes and one no.
        assert!(fit_with(&[1, 0], &[3.0, 1.0]) > 0.3);
        assert!(fit_with(&[1, 0], &[1.0, 3.0]) < -0.3);
    }
}
