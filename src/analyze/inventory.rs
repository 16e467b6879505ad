//! Inventories: folder paths and what each folder holds, so the apps,
//! folders, resources and workflows tables can be read without the API.

use std::collections::HashMap;

use crate::model::{ObjectId, OrgState};

/// How deep a folder chain is followed before it is called a loop.
const MAX_DEPTH: usize = 64;

/// Every folder's path from the root, `Parent/Child`, by id. A parent the
/// snapshot does not hold ends the path with `(folder <id>)`; a loop ends it
/// with `(loop)`.
pub fn folder_paths(state: &OrgState) -> HashMap<&ObjectId, String> {
    let by_id: HashMap<&ObjectId, &crate::model::Folder> =
        state.folders.iter().map(|f| (&f.id, f)).collect();
    state
        .folders
        .iter()
        .map(|f| {
            let mut names = vec![f.name.clone()];
            let mut next = f.parent_id.as_ref();
            while let Some(parent) = next {
                if names.len() > MAX_DEPTH {
                    names.push("(loop)".to_string());
                    break;
                }
                match by_id.get(parent) {
                    Some(p) => {
                        names.push(p.name.clone());
                        next = p.parent_id.as_ref();
                    }
                    None => {
                        names.push(format!("(folder {parent})"));
                        break;
                    }
                }
            }
            names.reverse();
            (&f.id, names.join("/"))
        })
        .collect()
}

/// How many apps, resources, workflows and folders sit directly in each
/// folder.
pub fn folder_items(state: &OrgState) -> HashMap<&ObjectId, usize> {
    let mut items: HashMap<&ObjectId, usize> = HashMap::new();
    let parents = state
        .apps
        .iter()
        .filter_map(|a| a.folder_id.as_ref())
        .chain(state.resources.iter().filter_map(|r| r.folder_id.as_ref()))
        .chain(state.workflows.iter().filter_map(|w| w.folder_id.as_ref()))
        .chain(state.folders.iter().filter_map(|f| f.parent_id.as_ref()));
    for p in parents {
        *items.entry(p).or_default() += 1;
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::*;

    #[test]
    fn paths_follow_parents_and_stop_at_loops_and_unknown_folders() {
        let mut s = org();
        s.folders.push(folder("f-orphan", "Lost", Some("f-gone")));
        s.folders.push(folder("f-a", "A", Some("f-b")));
        s.folders.push(folder("f-b", "B", Some("f-a")));
        let paths = folder_paths(&s);
        let path = |id: &str| paths[&ObjectId(id.into())].clone();
        assert_eq!(path("f-sub"), "Ops/Ops/Sub");
        assert_eq!(path("f-orphan"), "(folder f-gone)/Lost");
        assert!(path("f-a").starts_with("(loop)/"), "{}", path("f-a"));
        let items = folder_items(&s);
        // Ops holds its sub-folder and the Ops console.
        assert_eq!(items[&ObjectId("f-ops".into())], 2);
    }
}
