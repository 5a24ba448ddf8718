import { PROVINCES } from '@cpnet/identifier';

/**
 * A schematic tile map: one tile per GB/T 2260 province-level division at a (column, row) laid out roughly as the
 * capitals lie (west left, north up). Deliberately not boundary geometry: a published map of China needs 审图号.
 */
const TILE_GRID: Readonly<Record<string, readonly [col: number, row: number]>> = {
  '23': [7, 0],
  '15': [4, 1],
  '11': [5, 1],
  '22': [7, 1],
  '65': [0, 2],
  '62': [2, 2],
  '64': [3, 2],
  '14': [4, 2],
  '13': [5, 2],
  '12': [6, 2],
  '21': [7, 2],
  '63': [1, 3],
  '61': [3, 3],
  '41': [4, 3],
  '37': [5, 3],
  '54': [1, 4],
  '51': [2, 4],
  '50': [3, 4],
  '42': [4, 4],
  '34': [5, 4],
  '32': [6, 4],
  '31': [7, 4],
  '53': [2, 5],
  '52': [3, 5],
  '43': [4, 5],
  '36': [5, 5],
  '33': [6, 5],
  '45': [3, 6],
  '44': [4, 6],
  '35': [5, 6],
  '71': [6, 6],
  '46': [3, 7],
  '82': [4, 7],
  '81': [5, 7],
};

/** Columns and rows of the tile grid. */
export const TILE_COLUMNS = 8;
/** Rows of the tile grid. */
export const TILE_ROWS = 8;

/** A province tile: code, names and grid position. */
export interface Tile {
  code: string;
  name: string;
  short: string;
  nameEn: string;
  macro: string;
  col: number;
  row: number;
}

// 内蒙古自治区 → 内蒙古, 广西壮族自治区 → 广西, 香港特别行政区 → 香港, 北京市 → 北京.
function shortName(name: string): string {
  return name.replace(/(维吾尔|壮族|回族)?自治区$|特别行政区$|省$|市$/, '');
}

/** The 34 tiles in code order. */
export const TILES: readonly Tile[] = PROVINCES.map((p) => {
  const pos = TILE_GRID[p.code];
  if (!pos) throw new Error(`no tile for province ${p.code}`);
  return {
    code: p.code,
    name: p.name,
    short: shortName(p.name),
    nameEn: p.nameEn,
    macro: p.macro,
    col: pos[0],
    row: pos[1],
  };
});
