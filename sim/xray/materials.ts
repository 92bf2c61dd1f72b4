/**
 * Materials and their effective mass attenuation coefficients at the two energies of a
 * dual-energy linac cargo scanner. The synthesizer treats each beam as monoenergetic at its
 * effective energy: 6 MeV for the high-energy image, 4 MeV for the low-energy image.
 *
 * Sources: NIST XCOM / NIST Standard Reference Database 126 (J. H. Hubbell and S. M. Seltzer,
 * "Tables of X-Ray Mass Attenuation Coefficients and Mass Energy-Absorption Coefficients",
 * NISTIR 5632), total attenuation with coherent scattering, in cm^2/g.
 *  - water, aluminium, iron: the tabulated values at 4 and 6 MeV.
 *  - the others: mixture rule from their composition, split as in XCOM into incoherent (Compton)
 *    scattering, proportional to the electron density per gram (Z/A), and pair production,
 *    proportional to sum(w_i * Z_i^2 / A_i), both scaled from water. The same split reproduces the
 *    tabulated aluminium and iron values within 2.5 %, which bounds the error of these entries.
 *
 *   material      density  mu/rho 4 MeV  mu/rho 6 MeV   basis
 *   water           1.00     0.03403       0.02770      NIST table
 *   tissue          1.06     0.0337        0.0275       ICRU-44 soft tissue, mixture rule
 *   bone            1.92     0.0322        0.0271       ICRU-44 cortical bone, mixture rule
 *   steel           7.87     0.03316       0.03105      NIST table (iron)
 *   aluminium       2.70     0.03106       0.02655      NIST table
 *   wood            0.55     0.0327        0.0265       cellulose C6H10O5, mixture rule
 *   cellulose       1.50     0.0327        0.0265       paper, cardboard, cotton textile
 *   rubber          1.15     0.0340        0.0273       tyre rubber (C5H8 + carbon black)
 *   plastic         0.95     0.0345        0.0276       polyethylene (CH2)n
 *   silica          1.60     0.0315        0.0266       sand, soil, glass (SiO2)
 *   produce         0.95     0.0338        0.0274       fruit/vegetables: 85 % water, 15 % cellulose
 *   lead            11.35    0.04197       0.04391      NIST table (batteries, ballast)
 *
 * Densities are nominal solid densities; scene objects scale them (bulk cargo, foam, packing).
 */

export type MaterialName =
  | 'water'
  | 'tissue'
  | 'bone'
  | 'steel'
  | 'aluminium'
  | 'wood'
  | 'cellulose'
  | 'rubber'
  | 'plastic'
  | 'silica'
  | 'produce'
  | 'lead';

export interface Material {
  name: MaterialName;
  /** Nominal density in g/cm^3. */
  density: number;
  /** Mass attenuation coefficient in cm^2/g at the low (4 MeV) effective energy. */
  muRhoLow: number;
  /** Mass attenuation coefficient in cm^2/g at the high (6 MeV) effective energy. */
  muRhoHigh: number;
}

export const LOW_ENERGY_MEV = 4;
export const HIGH_ENERGY_MEV = 6;

export const MATERIALS: Readonly<Record<MaterialName, Material>> = {
  water: { name: 'water', density: 1.0, muRhoLow: 0.03403, muRhoHigh: 0.0277 },
  tissue: { name: 'tissue', density: 1.06, muRhoLow: 0.0337, muRhoHigh: 0.0275 },
  bone: { name: 'bone', density: 1.92, muRhoLow: 0.0322, muRhoHigh: 0.0271 },
  steel: { name: 'steel', density: 7.87, muRhoLow: 0.03316, muRhoHigh: 0.03105 },
  aluminium: { name: 'aluminium', density: 2.7, muRhoLow: 0.03106, muRhoHigh: 0.02655 },
  wood: { name: 'wood', density: 0.55, muRhoLow: 0.0327, muRhoHigh: 0.0265 },
  cellulose: { name: 'cellulose', density: 1.5, muRhoLow: 0.0327, muRhoHigh: 0.0265 },
  rubber: { name: 'rubber', density: 1.15, muRhoLow: 0.034, muRhoHigh: 0.0273 },
  plastic: { name: 'plastic', density: 0.95, muRhoLow: 0.0345, muRhoHigh: 0.0276 },
  silica: { name: 'silica', density: 1.6, muRhoLow: 0.0315, muRhoHigh: 0.0266 },
  produce: { name: 'produce', density: 0.95, muRhoLow: 0.0338, muRhoHigh: 0.0274 },
  lead: { name: 'lead', density: 11.35, muRhoLow: 0.04197, muRhoHigh: 0.04391 },
};

/** Linear attenuation coefficients in 1/mm of a material at a density (g/cm^3). */
export function linearMuPerMm(
  material: MaterialName,
  density = MATERIALS[material].density,
): { low: number; high: number } {
  const m = MATERIALS[material];
  // mu/rho [cm^2/g] * rho [g/cm^3] = mu [1/cm]; /10 -> 1/mm.
  return { low: (m.muRhoLow * density) / 10, high: (m.muRhoHigh * density) / 10 };
}
