import { describe, expect, it } from '@jest/globals';
import { compare, format, isSubset, parseMariaDB, parseMySQL, size, subtract, union } from './gtid.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = '8a94f357-aab4-11df-86ab-c80aa9429563';

describe('parsing', () => {
  it.each([
    ['an empty MariaDB list is the empty set', '', ''],
    ['a MariaDB GTID stands for every transaction of its origin up to it', '0-1-100', '0-1:1-100'],
    [
      'each domain-server pair of a binlog state is an origin of its own',
      '0-1-100,0-11-150',
      '0-1:1-100,0-11:1-150',
    ],
    ['spaces around the commas are ignored', ' 0-1-5 , 1-2-7 ', '0-1:1-5,1-2:1-7'],
    ['sequence number 0 (a fresh position) holds nothing', '0-1-0', ''],
  ])('MariaDB: %s', (_name, text, want) => {
    expect(format(parseMariaDB(text))).toBe(want);
  });

  it.each([
    ['an empty MySQL set is the empty set', '', ''],
    ['one uuid with one interval', `${U1}:1-5`, `${U1}:1-5`],
    ['single transactions and intervals merge when adjacent', `${U1}:1-5:6:8-9`, `${U1}:1-6:8-9`],
    [
      'several uuids, over several lines as gtid_executed prints them',
      `${U2}:1-3,\n${U1}:1-2`,
      `${U1}:1-2,${U2}:1-3`,
    ],
    ['uuids are compared without case', `${U1.toUpperCase()}:1-2,${U1}:3`, `${U1}:1-3`],
    ['a tag (MySQL 8.4) makes an origin of its own', `${U1}:1-3:ops:1-2`, `${U1}:1-3,${U1}:ops:1-2`],
  ])('MySQL: %s', (_name, text, want) => {
    expect(format(parseMySQL(text))).toBe(want);
  });

  it.each([
    ['a MariaDB GTID with two parts', () => parseMariaDB('0-100'), /not a MariaDB GTID/],
    ['a MySQL set member without a uuid', () => parseMySQL('abc:1-3'), /not a MySQL GTID set member/],
    ['a MySQL interval that ends before it starts', () => parseMySQL(`${U1}:5-3`), /ends before it starts/],
    ['a MySQL uuid without transactions', () => parseMySQL(U1), /no transactions/],
  ])('refuses %s', (_name, parse, message) => {
    expect(parse).toThrow(message);
  });
});

describe('set operations', () => {
  const my = parseMySQL;
  it.each([
    ['equal sets', `${U1}:1-10`, `${U1}:1-10`, 'equal'],
    ['a set with more of the same origin is ahead', `${U1}:1-12`, `${U1}:1-10`, 'ahead'],
    ['a set with fewer is behind', `${U1}:1-8`, `${U1}:1-10`, 'behind'],
    ['a set with another origin too is ahead', `${U1}:1-10,${U2}:1`, `${U1}:1-10`, 'ahead'],
    ['sets with a gap each lacks are diverged', `${U1}:1-10,${U2}:1`, `${U1}:1-11`, 'diverged'],
    ['a hole in the middle counts', `${U1}:1-4:6-10`, `${U1}:1-10`, 'behind'],
  ])('MySQL: %s', (_name, a, b, want) => {
    expect(compare(my(a), my(b))).toBe(want);
  });

  it.each([
    ['a replica that applied less is behind', '0-1-98', '0-1-100', 'behind'],
    [
      'the new primary after its own writes is ahead of a replica of the old one',
      '0-1-100,0-11-120',
      '0-1-100',
      'ahead',
    ],
    [
      'an old primary with a transaction the new primary never received is diverged from it',
      '0-1-101',
      '0-1-100,0-11-120',
      'diverged',
    ],
    ['an old primary that lost nothing is behind the new primary', '0-1-100', '0-1-100,0-11-120', 'behind'],
  ])('MariaDB: %s', (_name, a, b, want) => {
    expect(compare(parseMariaDB(a), parseMariaDB(b))).toBe(want);
  });

  it('subtract leaves exactly the transactions the other set lacks', () => {
    expect(format(subtract(my(`${U1}:1-20,${U2}:1-3`), my(`${U1}:3-5:10-30`)))).toBe(
      `${U1}:1-2:6-9,${U2}:1-3`,
    );
    expect(format(subtract(parseMariaDB('0-1-101'), parseMariaDB('0-1-100,0-11-120')))).toBe('0-1:101');
  });

  it('union merges overlapping and adjacent intervals; size counts transactions', () => {
    const u = union(my(`${U1}:1-5:9`), my(`${U1}:6-7,${U2}:2-3`));
    expect(format(u)).toBe(`${U1}:1-7:9,${U2}:2-3`);
    expect(size(u)).toBe(10);
    expect(isSubset(my(`${U1}:2-3`), u)).toBe(true);
    expect(isSubset(my(`${U1}:8`), u)).toBe(false);
  });
});
