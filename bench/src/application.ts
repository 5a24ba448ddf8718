// The node application (入网申请) the node benchmarks file: builder, operator, credit and contact of a fictitious
// applicant with valid GB 32100 credit codes; each benchmark adds role, region, name, site and endpoint.
export const BENCH_APPLICATION = {
  builder: {
    name: 'b',
    creditCode: '91510100MA6CXXXX1D',
    registeredCapitalWanYuan: 20000,
    fundingCapacityDeclared: true,
  },
  operator: { name: 'o', creditCode: '91510100MA6CYYYY26', telecomLicence: 'B1-20260001' },
  consortium: null,
  credit: { records: [] },
  contact: { name: 'c', phone: '000', email: 'a@b.cn' },
} as const;
