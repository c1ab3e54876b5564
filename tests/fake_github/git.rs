//! Git objects with their real SHA-1 ids, so trees and commits the client builds hash as they
//! would on GitHub.

use sha1::{Digest, Sha1};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
pub enum Object {
    Blob(Vec<u8>),
    Tree(Vec<TreeEntry>),
    Commit(Commit),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub mode: String,
    pub name: String,
    pub sha: String,
}

#[derive(Debug, Clone)]
pub struct Commit {
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
    pub author_name: String,
    pub author_login: Option<String>,
}

fn hash(kind: &str, body: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("{kind} {}\0", body.len()).as_bytes());
    h.update(body);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

pub fn blob_id(content: &[u8]) -> String {
    hash("blob", content)
}

/// Git sorts tree entries by name, with directories compared as if they ended in `/`.
fn sort_key(e: &TreeEntry) -> Vec<u8> {
    let mut k = e.name.as_bytes().to_vec();
    if e.mode == "40000" {
        k.push(b'/');
    }
    k
}

pub fn tree_body(entries: &mut [TreeEntry]) -> Vec<u8> {
    entries.sort_by_key(sort_key);
    let mut body = Vec::new();
    for e in entries.iter() {
        body.extend_from_slice(format!("{} {}\0", e.mode, e.name).as_bytes());
        body.extend_from_slice(&unhex(&e.sha));
    }
    body
}

pub fn commit_body(c: &Commit) -> Vec<u8> {
    let mut s = format!("tree {}\n", c.tree);
    for p in &c.parents {
        s.push_str(&format!("parent {p}\n"));
    }
    let who = format!(
        "{} <{}@example.com> 1767225600 +0000",
        c.author_name, c.author_name
    );
    s.push_str(&format!("author {who}\ncommitter {who}\n\n{}", c.message));
    s.into_bytes()
}

/// Every object of every repository, by id (ids are content hashes, so sharing is safe).
#[derive(Debug, Default)]
pub struct Odb {
    pub objects: HashMap<String, Object>,
}

impl Odb {
    pub fn put_blob(&mut self, content: &[u8]) -> String {
        let id = blob_id(content);
        self.objects
            .insert(id.clone(), Object::Blob(content.to_vec()));
        id
    }

    pub fn put_tree(&mut self, mut entries: Vec<TreeEntry>) -> String {
        let id = hash("tree", &tree_body(&mut entries));
        self.objects.insert(id.clone(), Object::Tree(entries));
        id
    }

    pub fn put_commit(&mut self, c: Commit) -> String {
        let id = hash("commit", &commit_body(&c));
        self.objects.insert(id.clone(), Object::Commit(c));
        id
    }

    pub fn commit(&self, sha: &str) -> Option<&Commit> {
        match self.objects.get(sha) {
            Some(Object::Commit(c)) => Some(c),
            _ => None,
        }
    }

    pub fn tree(&self, sha: &str) -> Option<&Vec<TreeEntry>> {
        match self.objects.get(sha) {
            Some(Object::Tree(t)) => Some(t),
            _ => None,
        }
    }

    /// A tree id, or the tree of a commit id (GitHub's tree route takes both).
    pub fn resolve_tree(&self, sha: &str) -> Option<String> {
        match self.objects.get(sha)? {
            Object::Tree(_) => Some(sha.to_string()),
            Object::Commit(c) => Some(c.tree.clone()),
            Object::Blob(_) => None,
        }
    }

    /// path → (mode, blob id) for every blob under `tree`.
    pub fn flatten(&self, tree: &str) -> BTreeMap<String, (String, String)> {
        let mut out = BTreeMap::new();
        self.flatten_into(tree, "", &mut out);
        out
    }

    fn flatten_into(&self, tree: &str, prefix: &str, out: &mut BTreeMap<String, (String, String)>) {
        for e in self.tree(tree).cloned().unwrap_or_default() {
            let path = format!("{prefix}{}", e.name);
            if e.mode == "40000" {
                self.flatten_into(&e.sha, &format!("{path}/"), out);
            } else {
                out.insert(path, (e.mode, e.sha));
            }
        }
    }

    /// Builds the nested trees for a flat path map; returns the root tree id.
    pub fn build_tree(&mut self, files: &BTreeMap<String, (String, String)>) -> String {
        let mut here: Vec<TreeEntry> = Vec::new();
        let mut dirs: BTreeMap<String, BTreeMap<String, (String, String)>> = BTreeMap::new();
        for (path, (mode, sha)) in files {
            match path.split_once('/') {
                Some((dir, rest)) => {
                    dirs.entry(dir.to_string())
                        .or_default()
                        .insert(rest.to_string(), (mode.clone(), sha.clone()));
                }
                None => here.push(TreeEntry {
                    mode: mode.clone(),
                    name: path.clone(),
                    sha: sha.clone(),
                }),
            }
        }
        for (dir, sub) in dirs {
            let sha = self.build_tree(&sub);
            here.push(TreeEntry {
                mode: "40000".into(),
                name: dir,
                sha,
            });
        }
        self.put_tree(here)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // `git hash-object -t tree /dev/null`: the empty tree.
        let mut odb = Odb::default();
        assert_eq!(
            odb.put_tree(vec![]),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
    }
}
