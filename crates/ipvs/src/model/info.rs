use std::fmt;

/// The IPVS version, packed like the kernel's `IP_VS_VERSION_CODE` (0x010201 is 1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub u32);

impl Version {
    /// The major number.
    pub const fn major(self) -> u8 {
        (self.0 >> 16) as u8
    }

    /// The minor number.
    pub const fn minor(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// The patch number.
    pub const fn patch(self) -> u8 {
        self.0 as u8
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major(), self.minor(), self.patch())
    }
}

/// General information about the kernel's IPVS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Info {
    /// The IPVS version.
    pub version: Version,
    /// The number of buckets in the connection hash table.
    pub connection_table_size: u32,
}
