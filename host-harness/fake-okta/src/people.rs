//! Name tables and the compact generated profile.
//!
//! A seeded user keeps only small table indices; the profile JSON is rebuilt
//! on demand. That keeps a 100,000-user org at a few tens of megabytes.

use serde::Serialize;
use serde_json::{Map, Value};

/// (display form, ASCII form for login/email).
const FIRST: &[(&str, &str)] = &[
    ("Alice", "alice"),
    ("Bob", "bob"),
    ("Carol", "carol"),
    ("David", "david"),
    ("Emma", "emma"),
    ("Farid", "farid"),
    ("Grace", "grace"),
    ("Hiro", "hiro"),
    ("Isabel", "isabel"),
    ("James", "james"),
    ("Karen", "karen"),
    ("Liam", "liam"),
    ("Maria", "maria"),
    ("Noah", "noah"),
    ("Olivia", "olivia"),
    ("Priya", "priya"),
    ("Quentin", "quentin"),
    ("Rosa", "rosa"),
    ("Sam", "sam"),
    ("Tariq", "tariq"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Jürgen", "juergen"),
    ("François", "francois"),
    ("Søren", "soren"),
    ("Łukasz", "lukasz"),
    ("Björk", "bjork"),
    ("Ayşe", "ayse"),
    ("Renée", "renee"),
    ("伟", "wei"),
    ("芳", "fang"),
    ("Ngọc", "ngoc"),
];

const LAST: &[(&str, &str)] = &[
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("Williams", "williams"),
    ("Brown", "brown"),
    ("Jones", "jones"),
    ("Miller", "miller"),
    ("Davis", "davis"),
    ("Wilson", "wilson"),
    ("Anderson", "anderson"),
    ("Taylor", "taylor"),
    ("Thomas", "thomas"),
    ("Moore", "moore"),
    ("Martin", "martin"),
    ("Lee", "lee"),
    ("Patel", "patel"),
    ("Kumar", "kumar"),
    ("García", "garcia"),
    ("Müller", "mueller"),
    ("Dvořák", "dvorak"),
    ("Åström", "astrom"),
    ("Gonçalves", "goncalves"),
    ("Ólafsson", "olafsson"),
    ("Nguyễn", "nguyen"),
    ("Østergaard", "ostergaard"),
    ("李", "li"),
    ("王", "wang"),
    ("田中", "tanaka"),
    ("O'Brien", "obrien"),
];

pub(crate) const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Human Resources",
    "IT",
    "Support",
    "Legal",
    "Operations",
    "Research & Development",
];

const TITLES: &[&str] = &[
    "Engineer",
    "Senior Engineer",
    "Manager",
    "Director",
    "Analyst",
    "Specialist",
    "Associate",
    "Vice President",
    "Consultant",
    "Intern",
];

const OFFICES: &[&str] = &[
    "Bengaluru",
    "San Francisco",
    "London",
    "München",
    "São Paulo",
    "Zürich",
    "東京",
    "Remote",
];

const SKILLS: &[&str] = &[
    "rust", "go", "python", "sql", "sales", "itil", "cloud", "security",
];

/// The compact, seed-derived part of a user's profile.
#[derive(Clone, Debug)]
pub(crate) struct GenProfile {
    pub first: u16,
    pub last: u16,
    /// How many earlier users share this first/last pair; keeps logins unique.
    pub dup: u32,
    pub dept: u8,
    pub title: u8,
    pub office: u8,
    pub mgr_first: u16,
    pub mgr_last: u16,
    /// 0 means "no mobile phone" (rendered as null, as Okta does).
    pub phone: u32,
    /// Days since 2010-01-01.
    pub hire_day: u16,
    pub contractor: bool,
    pub skills: u8,
    pub employee_number: u32,
}

/// A generated profile's attributes, declared in the order of their names
/// so that it serializes as a JSON map does (sorted keys): a page written
/// from it is byte for byte the one built from [`GenProfile::render`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenProfileView {
    badge_number: u32,
    cost_center: String,
    department: &'static str,
    display_name: String,
    email: String,
    employee_number: String,
    first_name: &'static str,
    hire_date: Option<String>,
    is_contractor: bool,
    last_name: &'static str,
    locale: &'static str,
    login: String,
    manager: String,
    mobile_phone: Option<String>,
    office_location: &'static str,
    organization: &'static str,
    second_email: Option<String>,
    skills: Vec<&'static str>,
    title: &'static str,
}

/// Random choices for one generated profile, drawn by the seeder.
pub(crate) struct ProfileDraw {
    pub first: usize,
    pub last: usize,
    pub dept: usize,
    pub title: usize,
    pub office: usize,
    pub mgr_first: usize,
    pub mgr_last: usize,
    pub phone: u32,
    pub hire_day: u16,
    pub contractor: bool,
    pub skills: u8,
}

/// Table sizes the seeder draws indices from.
pub(crate) const SIZES: [usize; 5] = [
    FIRST.len(),
    LAST.len(),
    DEPARTMENTS.len(),
    TITLES.len(),
    OFFICES.len(),
];

impl GenProfile {
    pub(crate) fn from_draw(d: ProfileDraw, dup: u32, employee_number: u32) -> Self {
        GenProfile {
            first: d.first as u16,
            last: d.last as u16,
            dup,
            dept: d.dept as u8,
            title: d.title as u8,
            office: d.office as u8,
            mgr_first: d.mgr_first as u16,
            mgr_last: d.mgr_last as u16,
            phone: d.phone,
            hire_day: d.hire_day,
            contractor: d.contractor,
            skills: d.skills,
            employee_number,
        }
    }

    pub(crate) fn login(&self) -> String {
        let (_, f) = FIRST[self.first as usize];
        let (_, l) = LAST[self.last as usize];
        match self.dup {
            0 => format!("{f}.{l}@example.com"),
            n => format!("{f}.{l}{}@example.com", n + 1),
        }
    }

    pub(crate) fn render(&self) -> Map<String, Value> {
        match serde_json::to_value(self.view()) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// The profile as Okta sends it, serialized field by field (a list
    /// page writes thousands without building a map for each).
    pub(crate) fn view(&self) -> GenProfileView {
        let first = FIRST[self.first as usize].0;
        let last = LAST[self.last as usize].0;
        let login = self.login();
        let phone = match self.phone {
            0 => None,
            p => Some(format!("+1 555-{:03}-{:04}", p / 10_000 % 1000, p % 10_000)),
        };
        let hire = chrono::NaiveDate::from_ymd_opt(2010, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(self.hire_day.into())))
            .map(|d| d.format("%Y-%m-%d").to_string());
        GenProfileView {
            badge_number: 10_000 + self.employee_number,
            cost_center: format!("CC-{:03}", 100 + u32::from(self.dept) * 10),
            department: DEPARTMENTS[self.dept as usize],
            display_name: format!("{first} {last}"),
            email: login.clone(),
            employee_number: format!("E{:06}", self.employee_number),
            first_name: first,
            hire_date: hire,
            is_contractor: self.contractor,
            last_name: last,
            locale: "en_US",
            login,
            manager: format!(
                "{} {}",
                FIRST[self.mgr_first as usize].0, LAST[self.mgr_last as usize].0
            ),
            mobile_phone: phone,
            office_location: OFFICES[self.office as usize],
            organization: "Example Corp",
            second_email: None,
            skills: (0..SKILLS.len())
                .filter(|i| self.skills & (1 << i) != 0)
                .map(|i| SKILLS[i])
                .collect(),
            title: TITLES[self.title as usize],
        }
    }
}
