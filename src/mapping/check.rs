//! The load-time checker: turns a parsed mapping file into a [`Plan`] only if every source
//! path exists in the source schema, every target path in the target schema, the types fit,
//! and every required target element is produced. Each problem names the mapping file, the
//! line of the rule and the path. Also computes the coverage report of `mapping check`.

use std::collections::BTreeMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use toml::Spanned;

use super::engine::{ForEachRule, Plan, Rule, TargetStep, ValueRule};
use super::file::{Missing, RawMapping, RawRule};
use super::path::{display, qname, Path, Step};
use super::transform::{lexical_ok, Table, Transform};
use crate::problem::Problem;
use crate::schema::model::{family, Content, Family, Simple, Xsd};
use crate::xml::QName;

/// Deepest source tree walked for the unused-elements report (recursive types).
const MAX_REPORT_DEPTH: usize = 12;

#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Target paths written by the mapping.
    pub produced: Vec<String>,
    /// Required target elements/attributes nothing writes (each also a problem).
    pub required_missing: Vec<String>,
    /// Source leaves (values) no rule reads.
    pub unused_source: Vec<String>,
}

pub struct Checker<'a> {
    pub file: &'a FsPath,
    pub text: &'a str,
    pub source: &'a Xsd,
    pub target: &'a Xsd,
    pub namespaces: &'a BTreeMap<String, String>,
    pub tables: &'a BTreeMap<String, Arc<Table>>,
    pub problems: Vec<Problem>,
    used: Vec<Vec<Step>>,
    produced: Vec<Vec<Step>>,
}

/// What a path leads to in a schema.
struct Walked {
    content: Content,
    /// The value type at the end (element text or attribute), if it has one.
    leaf: Option<Simple>,
    repeats: bool,
    /// The last step itself may occur more than once.
    last_many: bool,
    required: bool,
    orders: Vec<usize>,
}

impl<'a> Checker<'a> {
    pub fn new(
        file: &'a FsPath,
        text: &'a str,
        source: &'a Xsd,
        target: &'a Xsd,
        namespaces: &'a BTreeMap<String, String>,
        tables: &'a BTreeMap<String, Arc<Table>>,
    ) -> Self {
        Checker {
            file,
            text,
            source,
            target,
            namespaces,
            tables,
            problems: Vec::new(),
            used: Vec::new(),
            produced: Vec::new(),
        }
    }

    fn line(&self, span: std::ops::Range<usize>) -> usize {
        crate::xml::line_of(self.text.as_bytes(), span.start)
    }

    fn problem(&mut self, line: usize, reason: String) {
        self.problems.push(Problem::at(self.file, line, reason));
    }

    /// Checks the whole file; `None` if any problem was found.
    pub fn plan(&mut self, raw: &RawMapping) -> Option<(Plan, Coverage)> {
        let src_line = self.line(raw.source.span());
        let tgt_line = self.line(raw.target.span());
        let src_root = self.root(&raw.source.get_ref().root, self.source, src_line, "source");
        let tgt_root = self.root(&raw.target.get_ref().root, self.target, tgt_line, "target");
        let (Some((src_q, src_c)), Some((tgt_q, tgt_c))) = (src_root, tgt_root) else {
            return None;
        };
        let rules = self.rules(&raw.rules, &src_c, &tgt_c, &[], &[]);
        let mut required_missing = Vec::new();
        let produced = self.produced.clone();
        let root_label = format!("/{}", display(&tgt_q, self.namespaces));
        self.required(
            &tgt_c,
            &produced,
            &root_label,
            tgt_line,
            &mut required_missing,
            0,
        );
        let coverage = Coverage {
            produced: produced
                .iter()
                .map(|p| format!("{root_label}/{}", self.show(p)))
                .collect(),
            required_missing,
            unused_source: self.unused(&src_q, &src_c),
        };
        if !self.problems.is_empty() {
            return None;
        }
        Some((
            Plan {
                source_root: src_q,
                target_root: tgt_q,
                rules,
                namespaces: self.namespaces.clone(),
            },
            coverage,
        ))
    }

    fn root(&mut self, root: &str, xsd: &Xsd, line: usize, side: &str) -> Option<(QName, Content)> {
        let q = match qname(root, self.namespaces, false) {
            Ok(q) => q,
            Err(e) => {
                self.problem(line, format!("{side} root: {e}"));
                return None;
            }
        };
        match xsd.global_element(&q) {
            Some(d) => Some((q, xsd.content(d))),
            None => {
                let known: Vec<String> = xsd
                    .global_elements()
                    .iter()
                    .map(|e| e.to_string())
                    .collect();
                self.problem(
                    line,
                    format!(
                        "{side} root {root} ({q}) is not a global element of the {side} schema (it declares: {})",
                        known.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn rules(
        &mut self,
        raw: &[Spanned<RawRule>],
        src: &Content,
        tgt: &Content,
        src_prefix: &[Step],
        tgt_prefix: &[Step],
    ) -> Vec<Rule> {
        let mut out = Vec::new();
        for r in raw {
            let line = self.line(r.span());
            if let Some(rule) = self.rule(r.get_ref(), line, src, tgt, src_prefix, tgt_prefix) {
                out.push(rule);
            }
        }
        out
    }

    fn rule(
        &mut self,
        r: &RawRule,
        line: usize,
        src: &Content,
        tgt: &Content,
        src_prefix: &[Step],
        tgt_prefix: &[Step],
    ) -> Option<Rule> {
        let Some(to_text) = &r.to else {
            self.problem(line, "rule has no `to`".into());
            return None;
        };
        let to = match Path::parse(to_text, self.namespaces) {
            Ok(p) if p.steps.is_empty() => {
                self.problem(line, format!("target path `{to_text}` is empty"));
                return None;
            }
            Ok(p) => p,
            Err(e) => {
                self.problem(line, e);
                return None;
            }
        };
        let tw = self.walk(self.target, tgt, &to, line, "target")?;
        let to_steps: Vec<TargetStep> = to
            .steps
            .iter()
            .zip(tw.orders.iter().copied().chain(std::iter::repeat(0)))
            .map(|(s, order)| match s {
                Step::Element(q) => TargetStep {
                    name: q.clone(),
                    attribute: false,
                    order,
                },
                Step::Attribute(q) => TargetStep {
                    name: q.clone(),
                    attribute: true,
                    order,
                },
            })
            .collect();
        let full_to: Vec<Step> = tgt_prefix.iter().chain(&to.steps).cloned().collect();

        if let Some(each) = &r.for_each {
            if r.from.is_some()
                || r.constant.is_some()
                || !r.transform.is_empty()
                || r.default.is_some()
            {
                self.problem(
                    line,
                    "a for_each rule takes only `for_each`, `to` and nested `rules`".into(),
                );
                return None;
            }
            let from = match Path::parse(each, self.namespaces) {
                Ok(p) => p,
                Err(e) => {
                    self.problem(line, e);
                    return None;
                }
            };
            let sw = self.walk(self.source, src, &from, line, "source")?;
            if matches!(from.steps.last(), Some(Step::Attribute(_)))
                || to_steps.last().is_some_and(|s| s.attribute)
            {
                self.problem(
                    line,
                    "for_each iterates over elements, not attributes".into(),
                );
                return None;
            }
            if !tw.last_many {
                self.problem(
                    line,
                    format!("for_each target `{to_text}` cannot repeat (maxOccurs 1) but one is written per source item"),
                );
                return None;
            }
            let full_from: Vec<Step> = src_prefix.iter().chain(&from.steps).cloned().collect();
            self.produced.push(full_to.clone());
            let rules = self.rules(&r.rules, &sw.content, &tw.content, &full_from, &full_to);
            return Some(Rule::ForEach(ForEachRule {
                from: from.steps,
                to: to_steps,
                rules,
            }));
        }
        if !r.rules.is_empty() {
            self.problem(line, "nested `rules` need a `for_each`".into());
            return None;
        }
        let Some(target_type) = tw.leaf.clone() else {
            self.problem(
                line,
                format!("target `{to_text}` has element content, not a value; map its children"),
            );
            return None;
        };
        let tfam = family(&target_type.builtin);

        let mut transforms = Vec::new();
        for t in &r.transform {
            match Transform::parse(t, self.tables).and_then(|t| t.check().map(|_| t)) {
                Ok(t) => transforms.push(t),
                Err(e) => self.problem(line, format!("transform: {e}")),
            }
        }
        let check_value = |v: &str| -> Option<String> {
            if !lexical_ok(tfam, v) {
                return Some(format!(
                    "'{v}' is not a valid xs:{} for target `{to_text}`",
                    target_type.builtin
                ));
            }
            if !target_type.enumerations.is_empty()
                && !target_type.enumerations.iter().any(|e| e == v)
            {
                return Some(format!(
                    "'{v}' is not one of the values target `{to_text}` allows ({})",
                    target_type.enumerations.join(", ")
                ));
            }
            None
        };
        if let Some(d) = &r.default {
            if let Some(e) = check_value(d) {
                self.problem(line, format!("default: {e}"));
            }
        }

        let (from_steps, constant) = match (&r.from, &r.constant) {
            (Some(_), Some(_)) => {
                self.problem(line, "a rule takes `from` or `const`, not both".into());
                return None;
            }
            (None, None) => {
                self.problem(line, "rule has neither `from` nor `const`".into());
                return None;
            }
            (None, Some(c)) => {
                if let Some(e) = check_value(c) {
                    self.problem(line, format!("const: {e}"));
                }
                (Vec::new(), Some(c.clone()))
            }
            (Some(from), None) => {
                let mut steps = Vec::new();
                let mut fam = None;
                let mut enums: Option<Vec<String>> = None;
                let froms = from.to_vec();
                for f in &froms {
                    let p = match Path::parse(f, self.namespaces) {
                        Ok(p) => p,
                        Err(e) => {
                            self.problem(line, e);
                            continue;
                        }
                    };
                    let Some(sw) = self.walk(self.source, src, &p, line, "source") else {
                        continue;
                    };
                    if sw.repeats {
                        self.problem(
                            line,
                            format!(
                                "source `{f}` can repeat (maxOccurs > 1): map it with for_each"
                            ),
                        );
                        continue;
                    }
                    match &sw.leaf {
                        None => {
                            self.problem(
                                line,
                                format!("source `{f}` has element content, not a value"),
                            );
                            continue;
                        }
                        Some(s) => {
                            fam = Some(if froms.len() == 1 {
                                family(&s.builtin)
                            } else {
                                Family::Text
                            });
                            enums = (!s.enumerations.is_empty()).then(|| s.enumerations.clone());
                        }
                    }
                    self.used
                        .push(src_prefix.iter().chain(&p.steps).cloned().collect());
                    steps.push(p.steps);
                }
                if steps.len() != froms.len() {
                    return None;
                }
                // Types fit: follow the value's family through the transforms.
                let mut fam = fam.unwrap_or(Family::Text);
                let mut listed = false;
                for t in &transforms {
                    fam = t.family(fam);
                    if let Transform::Lookup(table) = t {
                        listed = true;
                        for v in table.values.values().chain(table.default.iter()) {
                            if let Some(e) = check_value(v) {
                                self.problem(line, format!("code list `{}`: {e}", table.name));
                            }
                        }
                    } else {
                        listed = false;
                    }
                }
                if !listed && tfam != Family::Text && fam != tfam {
                    self.problem(
                        line,
                        format!(
                            "types do not fit: target `{to_text}` is xs:{} but `{}` gives {}{}",
                            target_type.builtin,
                            froms.join("` + `"),
                            describe(fam),
                            hint(tfam)
                        ),
                    );
                }
                let plain = transforms
                    .iter()
                    .all(|t| matches!(t, Transform::Trim | Transform::Collapse));
                if !listed && plain && !target_type.enumerations.is_empty() {
                    if let Some(src_enums) = enums {
                        let bad: Vec<&String> = src_enums
                            .iter()
                            .filter(|v| !target_type.enumerations.contains(v))
                            .collect();
                        if !bad.is_empty() {
                            self.problem(
                                line,
                                format!(
                                    "source values {:?} are not allowed by target `{to_text}`; add a lookup",
                                    bad
                                ),
                            );
                        }
                    }
                }
                (steps, None)
            }
        };
        let skip_missing = match r.missing {
            Some(Missing::Skip) => true,
            Some(Missing::Error) => false,
            None => !tw.required,
        };
        self.produced.push(full_to);
        Some(Rule::Value(ValueRule {
            from: from_steps,
            constant,
            default: r.default.clone(),
            transforms,
            separator: r.separator.clone().unwrap_or_else(|| " ".into()),
            skip_missing,
            to: to_steps,
        }))
    }

    /// Follows `path` from `start` in `xsd`; a step that does not exist is a problem.
    fn walk(
        &mut self,
        xsd: &Xsd,
        start: &Content,
        path: &Path,
        line: usize,
        side: &str,
    ) -> Option<Walked> {
        let mut content = start.clone();
        let mut leaf = content.text.clone();
        let mut repeats = false;
        let mut last_many = false;
        let mut required = true;
        let mut orders = Vec::new();
        for (i, s) in path.steps.iter().enumerate() {
            match s {
                Step::Element(q) => match content.children.iter().position(|c| &c.name == q) {
                    Some(pos) => {
                        let c = content.children[pos].clone();
                        repeats |= c.many;
                        last_many = c.many;
                        required = c.min >= 1 && !c.in_choice;
                        orders.push(pos);
                        content = xsd.content(c.decl);
                        leaf = content.text.clone();
                    }
                    None if content.any => {
                        orders.push(usize::MAX);
                        content = Content {
                            any: true,
                            text: Some(Simple {
                                builtin: "string".into(),
                                enumerations: Vec::new(),
                            }),
                            ..Content::default()
                        };
                        leaf = content.text.clone();
                        required = false;
                        last_many = true;
                    }
                    None => {
                        let here: Vec<String> = content
                            .children
                            .iter()
                            .map(|c| display(&c.name, self.namespaces))
                            .collect();
                        self.problem(
                            line,
                            format!(
                                "{side} path `{}`: no element {} {} (expected one of: {})",
                                path.text,
                                display(q, self.namespaces),
                                if i == 0 {
                                    "here".to_string()
                                } else {
                                    format!("after step {i}")
                                },
                                if here.is_empty() {
                                    "none".into()
                                } else {
                                    here.join(", ")
                                }
                            ),
                        );
                        return None;
                    }
                },
                Step::Attribute(q) => match content.attributes.iter().find(|a| &a.name == q) {
                    Some(a) => {
                        leaf = Some(a.simple.clone());
                        required = a.required;
                        last_many = false;
                        orders.push(0);
                    }
                    None => {
                        self.problem(
                            line,
                            format!(
                                "{side} path `{}`: no attribute {} there",
                                path.text,
                                display(q, self.namespaces)
                            ),
                        );
                        return None;
                    }
                },
            }
        }
        Some(Walked {
            content,
            leaf,
            repeats,
            last_many,
            required,
            orders,
        })
    }

    /// Every required child (and attribute) of an element that is produced must be produced.
    fn required(
        &mut self,
        content: &Content,
        produced: &[Vec<Step>],
        label: &str,
        line: usize,
        missing: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > 64 {
            return;
        }
        for a in &content.attributes {
            let step = Step::Attribute(a.name.clone());
            if a.required && !produced.iter().any(|p| p.first() == Some(&step)) {
                let what = format!("{label}/@{}", display(&a.name, self.namespaces));
                self.problem(
                    line,
                    format!("required target attribute {what} is not produced"),
                );
                missing.push(what);
            }
        }
        for c in &content.children {
            let step = Step::Element(c.name.clone());
            let below: Vec<Vec<Step>> = produced
                .iter()
                .filter(|p| p.first() == Some(&step))
                .map(|p| p[1..].to_vec())
                .collect();
            let here = format!("{label}/{}", display(&c.name, self.namespaces));
            if below.is_empty() {
                if c.min >= 1 && !c.in_choice {
                    self.problem(
                        line,
                        format!("required target element {here} is not produced"),
                    );
                    missing.push(here);
                }
                continue;
            }
            // Written as a whole by a value rule: nothing below to check.
            if below.iter().any(Vec::is_empty) && below.iter().all(Vec::is_empty) {
                continue;
            }
            let inner = self.target.content(c.decl);
            let below: Vec<Vec<Step>> = below.into_iter().filter(|p| !p.is_empty()).collect();
            self.required(&inner, &below, &here, line, missing, depth + 1);
        }
    }

    fn unused(&self, root: &QName, content: &Content) -> Vec<String> {
        let mut leaves = Vec::new();
        walk_leaves(self.source, content, &mut Vec::new(), &mut leaves, 0);
        let root_label = format!("/{}", display(root, self.namespaces));
        leaves
            .into_iter()
            .filter(|l| !self.used.contains(l))
            .map(|l| format!("{root_label}/{}", self.show(&l)))
            .collect()
    }

    fn show(&self, steps: &[Step]) -> String {
        steps
            .iter()
            .map(|s| match s {
                Step::Element(q) => display(q, self.namespaces),
                Step::Attribute(q) => format!("@{}", display(q, self.namespaces)),
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

fn walk_leaves(
    xsd: &Xsd,
    c: &Content,
    prefix: &mut Vec<Step>,
    out: &mut Vec<Vec<Step>>,
    depth: usize,
) {
    if depth > MAX_REPORT_DEPTH {
        return;
    }
    for a in &c.attributes {
        let mut p = prefix.clone();
        p.push(Step::Attribute(a.name.clone()));
        out.push(p);
    }
    for ch in &c.children {
        prefix.push(Step::Element(ch.name.clone()));
        let inner = xsd.content(ch.decl);
        if inner.children.is_empty() && inner.text.is_some() {
            out.push(prefix.clone());
        }
        walk_leaves(xsd, &inner, prefix, out, depth + 1);
        prefix.pop();
    }
}

fn describe(f: Family) -> &'static str {
    match f {
        Family::Text => "text",
        Family::Date => "an xs:date",
        Family::DateTime => "an xs:dateTime",
        Family::Time => "an xs:time",
        Family::Number => "a number",
        Family::Boolean => "a boolean",
    }
}

fn hint(target: Family) -> &'static str {
    match target {
        Family::Date => "; add a transform such as date(dd/MM/yyyy)",
        Family::DateTime => "; add a transform such as datetime(dd/MM/yyyy HH:mm)",
        Family::Number => "; add a transform such as number(0)",
        Family::Boolean => "; add a lookup to true/false",
        _ => "",
    }
}
