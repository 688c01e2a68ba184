//! Running a checked mapping: source document in, target document out, or an error that
//! names the element and what is wrong with its value. The output is built in memory and
//! only serialised when every rule has succeeded, so nothing half-mapped ever leaves.
//! Text goes through quick-xml's escaping writer; children are written in the order of the
//! target schema's content model, whatever the order of the rules.

use std::collections::BTreeMap;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::path::{display, Step};
use super::transform::Transform;
use super::Failure;
use crate::schema::tree::Tree;
use crate::xml::QName;

pub struct Plan {
    pub source_root: QName,
    pub target_root: QName,
    pub rules: Vec<Rule>,
    /// The file's `[namespaces]`, for prefixes in output and messages.
    pub namespaces: BTreeMap<String, String>,
}

pub enum Rule {
    Value(ValueRule),
    ForEach(ForEachRule),
}

pub struct ValueRule {
    pub from: Vec<Vec<Step>>,
    pub constant: Option<String>,
    pub default: Option<String>,
    pub transforms: Vec<Transform>,
    pub separator: String,
    pub skip_missing: bool,
    pub to: Vec<TargetStep>,
}

pub struct ForEachRule {
    pub from: Vec<Step>,
    pub to: Vec<TargetStep>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub struct TargetStep {
    pub name: QName,
    pub attribute: bool,
    /// Position among the parent's children in the target content model.
    pub order: usize,
}

/// The output tree; names are borrowed from the plan (no allocation per element).
#[derive(Debug)]
struct Out<'p> {
    name: &'p QName,
    order: usize,
    attrs: Vec<(&'p QName, String)>,
    text: Option<String>,
    children: Vec<Out<'p>>,
}

impl<'p> Out<'p> {
    fn new(name: &'p QName, order: usize) -> Out<'p> {
        Out {
            name,
            order,
            attrs: Vec::new(),
            text: None,
            children: Vec::new(),
        }
    }

    /// The child named by `step`, created if absent (intermediate elements are shared).
    fn child(&mut self, step: &'p TargetStep) -> &mut Out<'p> {
        match self.children.iter().rposition(|c| *c.name == step.name) {
            Some(i) => &mut self.children[i],
            None => {
                self.children.push(Out::new(&step.name, step.order));
                self.children.last_mut().expect("just pushed")
            }
        }
    }

    fn set(&mut self, steps: &'p [TargetStep], value: String) {
        let (last, init) = steps.split_last().expect("checked: non-empty target");
        let mut cur = self;
        for s in init {
            cur = cur.child(s);
        }
        if last.attribute {
            cur.attrs.retain(|(n, _)| **n != last.name);
            cur.attrs.push((&last.name, value));
        } else {
            cur.child(last).text = Some(value);
        }
    }
}

impl Plan {
    /// Maps a source document (already parsed) to the serialised target document.
    pub fn run(&self, input: &Tree) -> Result<Vec<u8>, Failure> {
        let root = input.root();
        if !root.is(&self.source_root.ns, &self.source_root.local) {
            return Err(Failure::Input(format!(
                "the root element is {}, the mapping reads {}",
                QName::new(root.ns.to_string(), root.local.clone()),
                self.source_root
            )));
        }
        let mut out = Out::new(&self.target_root, 0);
        let label = Label {
            parent: None,
            steps: &[],
            index: 0,
        };
        self.apply(&self.rules, input, 0, &mut out, &label)?;
        Ok(self.serialise(out))
    }

    fn apply<'p>(
        &'p self,
        rules: &'p [Rule],
        input: &Tree,
        ctx: usize,
        out: &mut Out<'p>,
        label: &Label<'_>,
    ) -> Result<(), Failure> {
        for rule in rules {
            match rule {
                Rule::Value(r) => {
                    if let Some(v) = self.value(r, input, ctx, label)? {
                        out.set(&r.to, v);
                    }
                }
                Rule::ForEach(r) => {
                    let items = find_all(input, ctx, &r.from);
                    if items.is_empty() {
                        continue;
                    }
                    let (last, init) = r.to.split_last().expect("checked: non-empty target");
                    let mut parent = &mut *out;
                    for s in init {
                        parent = parent.child(s);
                    }
                    for (i, item) in items.into_iter().enumerate() {
                        parent.children.push(Out::new(&last.name, last.order));
                        let target = parent.children.last_mut().expect("just pushed");
                        let l = Label {
                            parent: Some(label),
                            steps: &r.from,
                            index: i + 1,
                        };
                        self.apply(&r.rules, input, item, target, &l)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn value(
        &self,
        r: &ValueRule,
        input: &Tree,
        ctx: usize,
        label: &Label<'_>,
    ) -> Result<Option<String>, Failure> {
        let raw = match &r.constant {
            Some(c) => Some(c.clone()),
            None => {
                let parts: Vec<String> = r
                    .from
                    .iter()
                    .filter_map(|p| find_value(input, ctx, p))
                    .filter(|v| !v.trim().is_empty())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(&r.separator))
            }
        };
        let path = || {
            let from = r
                .from
                .iter()
                .map(|p| self.show(p))
                .collect::<Vec<_>>()
                .join(" + ");
            format!("{}/{from}", label.render(self))
        };
        let value = match raw {
            Some(mut v) => {
                for t in &r.transforms {
                    v = t.apply(v).map_err(|problem| Failure::Value {
                        path: path(),
                        problem,
                    })?;
                }
                (!v.is_empty()).then_some(v)
            }
            None => None,
        };
        match (value, &r.default) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(d)) => Ok(Some(d.clone())),
            (None, None) if r.skip_missing => Ok(None),
            (None, None) => Err(Failure::Missing { path: path() }),
        }
    }

    fn show(&self, steps: &[Step]) -> String {
        if steps.is_empty() {
            return ".".into();
        }
        steps
            .iter()
            .map(|s| match s {
                Step::Element(q) => display(q, &self.namespaces),
                Step::Attribute(q) => format!("@{}", display(q, &self.namespaces)),
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    fn serialise(&self, root: Out<'_>) -> Vec<u8> {
        // Prefixes: the file's own for the namespaces used, generated ones otherwise.
        let mut used: Vec<String> = Vec::new();
        collect_ns(&root, &mut used);
        let mut prefixes: Vec<(String, String)> = Vec::new();
        for (i, uri) in used.iter().enumerate() {
            let p = self
                .namespaces
                .iter()
                .find(|(p, u)| *u == uri && !p.is_empty())
                .map(|(p, _)| p.clone())
                .unwrap_or_else(|| format!("ns{i}"));
            prefixes.push((uri.clone(), p));
        }
        let mut w = Writer::new(Vec::with_capacity(1024));
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect("writing to a Vec");
        write(&mut w, root, &prefixes, true);
        w.into_inner()
    }
}

fn collect_ns(o: &Out<'_>, used: &mut Vec<String>) {
    for n in std::iter::once(o.name).chain(o.attrs.iter().map(|(n, _)| *n)) {
        if !n.ns.is_empty() && !used.contains(&n.ns) {
            used.push(n.ns.clone());
        }
    }
    for c in &o.children {
        collect_ns(c, used);
    }
}

/// `prefix:local` into `buf` (cleared first).
fn qualified<'b>(q: &QName, prefixes: &[(String, String)], buf: &'b mut String) -> &'b str {
    buf.clear();
    if !q.ns.is_empty() {
        if let Some((_, p)) = prefixes.iter().find(|(u, _)| *u == q.ns) {
            buf.push_str(p);
            buf.push(':');
        }
    }
    buf.push_str(&q.local);
    buf
}

fn write(w: &mut Writer<Vec<u8>>, mut o: Out<'_>, prefixes: &[(String, String)], root: bool) {
    let mut name = String::with_capacity(32);
    let mut attr = String::with_capacity(32);
    let mut start = BytesStart::new(qualified(o.name, prefixes, &mut name));
    if root {
        for (uri, p) in prefixes {
            start.push_attribute((format!("xmlns:{p}").as_str(), uri.as_str()));
        }
    }
    for (n, v) in &o.attrs {
        start.push_attribute((qualified(n, prefixes, &mut attr), v.as_str()));
    }
    w.write_event(Event::Start(start))
        .expect("writing to a Vec");
    if let Some(t) = &o.text {
        w.write_event(Event::Text(BytesText::new(t)))
            .expect("writing to a Vec");
    }
    o.children.sort_by_key(|c| c.order);
    for c in o.children {
        write(w, c, prefixes, false);
    }
    w.write_event(Event::End(BytesEnd::new(qualified(
        o.name, prefixes, &mut name,
    ))))
    .expect("writing to a Vec");
}

/// Where the mapper is in the source, rendered only when an error names it.
pub(crate) struct Label<'a> {
    parent: Option<&'a Label<'a>>,
    steps: &'a [Step],
    /// 1-based occurrence of a `for_each` item; 0 for the root.
    index: usize,
}

impl Label<'_> {
    fn render(&self, plan: &Plan) -> String {
        match self.parent {
            None => format!("/{}", display(&plan.source_root, &plan.namespaces)),
            Some(p) => format!(
                "{}/{}[{}]",
                p.render(plan),
                plan.show(self.steps),
                self.index
            ),
        }
    }
}

/// Text of the first node at `steps` below `ctx` (the checker refuses repeatable paths).
fn find_value(t: &Tree, ctx: usize, steps: &[Step]) -> Option<String> {
    let mut cur = ctx;
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Element(q) => {
                cur = t
                    .children(cur)
                    .find(|(_, e)| e.is(&q.ns, &q.local))
                    .map(|(c, _)| c)?;
            }
            Step::Attribute(q) => {
                debug_assert_eq!(i + 1, steps.len());
                return t.nodes[cur].attr_ns(&q.ns, &q.local).map(str::to_string);
            }
        }
    }
    Some(t.nodes[cur].text.clone())
}

/// Every element at `steps` below `ctx`, in document order.
fn find_all(t: &Tree, ctx: usize, steps: &[Step]) -> Vec<usize> {
    let mut cur = vec![ctx];
    for s in steps {
        let Step::Element(q) = s else {
            return Vec::new();
        };
        cur = cur
            .into_iter()
            .flat_map(|c| {
                t.children(c)
                    .filter(|(_, e)| e.is(&q.ns, &q.local))
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    cur
}
