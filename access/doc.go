// Package access is the roles.json permission engine: 4D's privileges,
// roles and permissions (rest.md §6.5, runtime.md §6.3). ParseRoles reads the
// file and checks it, naming the line of every problem; Compile binds it
// to a data model as a Policy whose checks run in tens of nanoseconds, so
// that the REST layer may check every request and every attribute.
//
// Decisions, where 4D's documents leave room:
//
//   - An empty list (`"read": []`) is the same as no list: it sets no
//     permission at that level, and the level above applies. 4D's 21
//     default file lists every action of "ds" with [] while leaving every
//     resource open, which only this reading explains.
//   - "none" (any case) is reserved, like "WebAdmin": it always exists,
//     may be listed without being declared, and no session ever holds it
//     (Set, Expand and Has drop it; a privilege may not include it, a role
//     may not list it). A permission listing only "none" therefore grants
//     nobody, which is what 4D's 20 R6 default file means by it. 4D keeps
//     "none" an ordinary name that nobody happens to be given; fourd makes
//     that guarantee hold whatever a users file says.
//   - "WebAdmin" is the admin privilege of controlled admin access, not a
//     data superuser: as in 4D, it passes a permission only when the
//     permission lists it (directly or through a privilege that includes
//     it). A privilege may include WebAdmin and a role may list it.
//   - A name given to a session that roles.json does not declare is
//     ignored, as 4D's setPrivileges ignores it.
//   - Privilege and role names share one namespace (a role may not be
//     named like a privilege) and permissions list privileges only.
//   - A missing or empty roles.json restricts nothing (a nil *Roles and a
//     nil *Policy behave so). restrictedByDefault (4D 21) closes every
//     resource that no permission covers.
//   - Two permissions with the same type and applyTo are an error rather
//     than merged.
//   - Actions that do not apply to a target (promote on the datastore,
//     execute on an attribute) and 4D's old "describe" key are accepted and
//     ignored. A singleton's execute covers its functions; a
//     singletonMethod's overrides it; with neither, the datastore's execute
//     applies ("execute any function on the project"). Promote applies to
//     data model methods only.
//
// fourd is stricter than 4D on errors: 4D opens a project whose roles.json
// does not parse with protection off; fourd refuses to start
// (docs/decisions.md).
package access
