//! The closed lists of codes records use (sex, phase, sector, visit kind,
//! milestone kind). Each is stored and exchanged as its snake_case code; the
//! UI translates `code.<list>.<code>`.

use crate::error::FieldError;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( #[serde(rename = $code)] $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The codes, in the order of [`Self::ALL`]: what a declared field lists.
            pub const CODES: &'static [&'static str] = &[$($code),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn from_code(s: &str) -> Option<Self> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }

            /// Parses the value of `field`, or names what is allowed.
            pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
                Self::from_code(s.trim()).ok_or_else(|| {
                    let allowed: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                    FieldError::new(field, "unknown_code")
                        .with("value", s)
                        .with("allowed", allowed.join(", "))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum!(Sex { F = "F", M = "M" });

code_enum!(
    /// Where the person is in the migration cycle.
    Phase { PreDeparture = "pre_departure", InMigration = "in_migration", Returned = "returned" }
);

code_enum!(
    /// Where a person's case stands: followed (active), away for the
    /// season, out of the programme having finished it, dropped out, or
    /// moved away. Only active people are on follow-up plans.
    CaseStatus {
        Active = "active",
        Abroad = "abroad",
        Graduated = "graduated",
        DroppedOut = "dropped_out",
        MovedAway = "moved_away",
    }
);

code_enum!(
    /// The identity document of a person who is not a Moroccan resident
    /// (a Moroccan's is her CIN).
    IdDocType {
        Passport = "passport",
        NationalId = "national_id",
        ResidencePermit = "residence_permit",
        Other = "other",
    }
);

code_enum!(Sector {
    Agriculture = "agriculture",
    Livestock = "livestock",
    Agrifood = "agrifood",
    Handicraft = "handicraft",
    Commerce = "commerce",
    Services = "services",
    Other = "other",
});

code_enum!(VisitKind {
    IndividualCoaching = "individual_coaching",
    GroupTraining = "group_training",
    FinancialEducation = "financial_education",
    PreDepartureOrientation = "pre_departure_orientation",
    FollowUp = "follow_up",
    PhoneCall = "phone_call",
});

code_enum!(
    /// IGA milestones, declared in lifecycle order (`Ord` follows it);
    /// `IgaStopped` ends a lifecycle at any point.
    MilestoneKind {
        BusinessPlan = "business_plan",
        TrainingCompleted = "training_completed",
        FinancingRequested = "financing_requested",
        FinancingObtained = "financing_obtained",
        EquipmentAcquired = "equipment_acquired",
        IgaLaunched = "iga_launched",
        FirstSale = "first_sale",
        Operating6Months = "operating_6_months",
        Sustained12Months = "sustained_12_months",
        IgaStopped = "iga_stopped",
    }
);

impl MilestoneKind {
    /// Position in the lifecycle, 1-based (stopped ranks after everything).
    pub fn rank(self) -> u8 {
        Self::ALL.iter().position(|k| *k == self).map_or(0, |p| p as u8 + 1)
    }
}
